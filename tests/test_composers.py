"""Each answer composer alone, on hand-made contexts over two small made-up plans (no real model: a hashing
encoder makes the vectors), plus the stage order of ``Retriever.ask``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from stand_ins import HashingEncoder

from index.store import build_index, load_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths
from retriever.composers import COMPOSERS, agency_tasks, assignment, compose, cross_plan, meta, passage, person
from retriever.composers import target as target_composer
from retriever.context import AskContext
from retriever.fusion import Hit
from retriever.query import analyse, normalise_number
from retriever.service import Retriever

PLAN_TAN_AN = """ĐẢNG BỘ TỈNH QUẢNG TRỊ
ĐẢNG ỦY XÃ TÂN AN
Số 05-KH/ĐU
Tân An, ngày 12 tháng 3 năm 2026
KẾ HOẠCH
thực hiện chương trình chăm sóc sức khỏe Nhân dân
Thực hiện Nghị quyết số 31-NQ/TU ngày 05/01/2026 của Ban Chấp hành Đảng bộ tỉnh, Quyết định số 120/QĐ UBND,
Ban Thường vụ Đảng ủy xã Tân An ban hành kế hoạch như sau:
I. MỤC TIÊU
1. Đến năm 2030, tỷ lệ bao phủ bảo hiểm y tế đạt trên 96% dân số.
II. NHIỆM VỤ
1. Tuyên truyền về phòng chống sốt xuất huyết trên loa truyền thanh của xã.
III. TỔ CHỨC THỰC HIỆN
1. Trạm Y tế xã chủ trì tổ chức khám sàng lọc bệnh tăng huyết áp cho người cao tuổi, hoàn thành trước ngày 30/6/2026.
2. Văn phòng Đảng ủy chủ trì theo dõi, đôn đốc việc thực hiện kế hoạch.
T/M BAN THƯỜNG VỤ
BÍ THƯ
Lê Văn Hòa
"""
PLAN_BINH_MINH = """ỦY BAN NHÂN DÂN
XÃ BÌNH MINH
Số 18-KH/UBND
Bình Minh, ngày 02 tháng 4 năm 2026
KẾ HOẠCH
nâng cao sức khỏe người dân xã Bình Minh
Ủy ban nhân dân xã Bình Minh ban hành kế hoạch như sau:
I. MỤC TIÊU
1. Đến năm 2030, tỷ lệ bao phủ bảo hiểm y tế đạt trên 98% dân số.
II. NHIỆM VỤ
1. Tổ chức khám sàng lọc bệnh tăng huyết áp cho người cao tuổi tại trạm y tế xã.
III. TỔ CHỨC THỰC HIỆN
1. Trạm Y tế xã chủ trì tổ chức khám sàng lọc bệnh tăng huyết áp, báo cáo kết quả hằng quý.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Phạm Thị Lan
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Retriever:
    src = tmp_path_factory.mktemp("plans")
    (src / "tan_an.txt").write_text(PLAN_TAN_AN, "utf-8")
    (src / "binh_minh.txt").write_text(PLAN_BINH_MINH, "utf-8")
    docs, chunks = ingest_paths([src], ChunkSettings(), progress=False)
    out = Path(tmp_path_factory.mktemp("index")) / "index"
    build_index(docs, chunks, HashingEncoder(), out, ChunkSettings(), progress=False)
    return Retriever(load_index(out), HashingEncoder())


def _doc(r: Retriever, number: str) -> str:
    return next(d for d, doc in r.documents.items() if doc.meta.number == number)


def _ctx(r: Retriever, question: str, docs: list[str] | None = None, hits: list[Hit] | None = None) -> AskContext:
    """A context as the scope and search stages would leave it, with the hits chosen by hand."""
    q = analyse(question, r.scope.places)
    if hits is None:
        rows = r.corpus.rows_of(docs)
        hits = r.searcher.search(q.text, 10, rows=rows, lexical_query=q.search)
    return AskContext(q=q, k=5, qid="t", corpus=r.corpus, settings=r.settings, searcher=r.searcher, scope=r.scope,
                      docs=docs, hits=hits, qvec=r.encoder.encode_queries([q.text])[0])


def _first_hit(r: Retriever, doc_id: str) -> list[Hit]:
    return [Hit(r.corpus.chunks[int(r.corpus.doc_rows[doc_id][0])].chunk_id, 1.0)]


def test_meta_composer_gives_number_issuer_date_and_signer(small):
    tan_an = _doc(small, "05-KH/ĐU")
    ans = meta.compose(_ctx(small, "Kế hoạch của Đảng ủy xã Tân An có số hiệu là gì?", [tan_an],
                            _first_hit(small, tan_an)))
    assert ans is not None and not ans.abstained and ans.intent == "meta"
    assert "05-KH/ĐU" in ans.answer and "12/03/2026" in ans.answer and "Lê Văn Hòa" in ans.answer
    assert ans.citations[0].doc_id == tan_an and ans.citations[0].start == 0


def test_meta_composer_refuses_a_number_the_corpus_does_not_hold(small):
    ans = meta.compose(_ctx(small, "Kế hoạch 77-KH/ĐU có số hiệu và ngày ban hành nào?", None,
                            _first_hit(small, _doc(small, "05-KH/ĐU"))))
    assert ans is not None and ans.abstained and "77-KH/ĐU" in ans.answer and ans.citations == ()


def test_meta_composer_passes_other_questions_on(small):
    assert meta.compose(_ctx(small, "Trạm Y tế xã chủ trì việc gì?")) is None


def test_person_composer_answers_from_the_signature_block_only(small):
    binh_minh = _doc(small, "18-KH/UBND")
    ans = person.compose(_ctx(small, "Ai là chủ tịch ủy ban nhân dân xã?", None, _first_hit(small, binh_minh)))
    assert ans is not None and not ans.abstained and "Phạm Thị Lan" in ans.answer
    refused = person.compose(_ctx(small, "Ai là giám đốc trung tâm y tế?"))
    assert refused is not None and refused.abstained and refused.citations == ()
    assert person.compose(_ctx(small, "Trạm Y tế xã chủ trì việc gì?")) is None


def test_assignment_composer_names_lead_deadline_and_quotes_the_row(small):
    ans = assignment.compose(_ctx(small, "Cơ quan nào chủ trì khám sàng lọc tăng huyết áp ở xã Tân An?",
                                  [_doc(small, "05-KH/ĐU")]))
    assert ans is not None and not ans.abstained
    assert ans.facts["lead"] == ["Trạm Y tế xã"] and "30/06/2026" in (ans.facts["deadline"] or "")
    assert ans.evidence and ans.evidence in small.documents[ans.facts["doc_id"]].text
    assert ans.citations[0].start <= small.documents[ans.facts["doc_id"]].text.find(ans.evidence)


def test_assignment_composer_gives_one_line_per_plan_when_plans_are_compared(small):
    both = sorted(small.documents)
    ans = assignment.compose(_ctx(small, "Cơ quan nào chủ trì khám sàng lọc tăng huyết áp ở xã Tân An và xã Bình "
                                         "Minh?", both))
    assert ans is not None and ans.answer.count("\n- ") == 1 and ans.answer.startswith("- ")
    assert {c.doc_id for c in ans.citations} == set(both)


def test_assignment_composer_ignores_money_and_non_assignment_questions(small):
    assert assignment.compose(_ctx(small, "Kinh phí bao nhiêu tỷ đồng do cơ quan nào chủ trì?")) is None
    assert assignment.compose(_ctx(small, "Tuyên truyền sốt xuất huyết bằng hình thức gì?")) is None


def test_agency_tasks_composer_lists_the_agencys_tasks_or_refuses(small):
    ans = agency_tasks.compose(_ctx(small, "Trạm Y tế xã chủ trì những nhiệm vụ nào?"))
    assert ans is not None and not ans.abstained
    assert ans.answer.startswith("Trạm Y tế") and ans.answer.count("\n- ") == 2
    assert agency_tasks.compose(_ctx(small, "Trạm Y tế xã chủ trì khám sàng lọc khi nào?")) is None


def test_target_composer_gives_value_and_period_per_plan(small):
    tan_an = _doc(small, "05-KH/ĐU")
    ans = target_composer.compose(_ctx(small, "Tỷ lệ bao phủ bảo hiểm y tế của xã Tân An đạt bao nhiêu?", [tan_an]))
    assert ans is not None and ans.intent == "target" and "96" in ans.answer and "2030" in ans.answer
    assert "98" not in ans.answer and ans.facts["kind"] == "targets"
    assert target_composer.compose(_ctx(small, "Cơ quan nào chủ trì khám sàng lọc?")) is None


def test_cross_plan_composer_quotes_each_named_plan(small):
    both = sorted(small.documents)
    ans = cross_plan.compose(_ctx(small, "Xã Tân An và xã Bình Minh tuyên truyền, khám sàng lọc thế nào?", both))
    assert ans is not None and ans.answer.startswith("So sánh giữa các văn bản:")
    assert {c.doc_id for c in ans.citations} == set(both)
    assert cross_plan.compose(_ctx(small, "Xã Tân An tuyên truyền thế nào?", [both[0]])) is None


def test_passage_composer_quotes_a_window_or_refuses(small):
    ans = passage.compose(_ctx(small, "Tuyên truyền phòng chống sốt xuất huyết bằng gì?"))
    assert not ans.abstained and "loa truyền thanh" in ans.answer and ans.evidence in ans.citations[0].text
    money = passage.compose(_ctx(small, "Kinh phí tuyên truyền sốt xuất huyết là bao nhiêu tỷ đồng?"))
    assert money.abstained and money.citations == ()


def test_composers_are_tried_in_the_declared_order(small):
    assert [name for name, _ in COMPOSERS] == ["meta", "person", "agency_tasks", "assignment", "target",
                                              "cross_plan", "passage"]
    tan_an = _doc(small, "05-KH/ĐU")
    ctx = _ctx(small, "Kế hoạch của xã Tân An ai ký?", [tan_an], _first_hit(small, tan_an))
    first = compose(ctx)
    assert "Người ký: Lê Văn Hòa" in first.answer  # the meta composer answered before the passage one
    only_passage = tuple((n, c) for n, c in COMPOSERS if n == "passage")
    assert "Người ký:" not in compose(ctx, only_passage).answer


def test_ask_scopes_by_the_place_a_question_names(small):
    binh_minh = _doc(small, "18-KH/UBND")
    ans = small.ask("Ở xã Bình Minh, cơ quan nào chủ trì khám sàng lọc tăng huyết áp?")
    assert not ans.abstained and {c.doc_id for c in ans.citations} == {binh_minh}
    filtered = small.ask("Cơ quan nào chủ trì khám sàng lọc tăng huyết áp?", doc_ids=[binh_minh])
    assert {c.doc_id for c in filtered.citations} == {binh_minh}


def test_a_resolution_the_plans_implement_scopes_and_never_refuses(small):
    ans = small.ask("Kế hoạch thực hiện Nghị quyết 31-NQ/TU của xã Tân An có số hiệu gì?")
    assert not ans.abstained and "05-KH/ĐU" in ans.answer
    missing = small.ask("Kế hoạch thực hiện Nghị quyết số 99-NQ/TU có số hiệu gì?")
    assert missing.abstained and "99-NQ/TU" in missing.answer and missing.citations == ()


def test_a_number_printed_with_other_separators_counts_as_mentioned(small):
    assert small.scope.number_mentioned(normalise_number("120/QĐ-UBND"))  # printed "120/QĐ UBND"
    assert not small.scope.number_mentioned(normalise_number("121/QĐ-UBND"))


def test_a_number_not_in_the_corpus_is_refused_naming_it(small):
    ans = small.ask("Theo Kế hoạch 0415/KH-UBND, cơ quan nào chủ trì khám sàng lọc tăng huyết áp?")
    assert ans.abstained and "0415/KH-UBND" in ans.answer and ans.citations == ()


def test_a_type_word_with_a_serial_scopes_to_that_plan(small):
    binh_minh = _doc(small, "18-KH/UBND")
    ans = small.ask("Kế hoạch số 18 giao cơ quan nào chủ trì khám sàng lọc tăng huyết áp?")
    assert not ans.abstained and {c.doc_id for c in ans.citations} == {binh_minh}


def test_settings_are_named_and_change_the_gate(small):
    strict = Retriever(small.bundle, small.encoder, answer=replace(small.settings, min_coverage=1.01, min_dense=1.01))
    assert strict.ask("Tuyên truyền phòng chống sốt xuất huyết bằng gì?").abstained
    assert not small.ask("Tuyên truyền phòng chống sốt xuất huyết bằng gì?").abstained


def test_search_returns_typed_hits_with_chunk_and_plan(small):
    tan_an = _doc(small, "05-KH/ĐU")
    hits = small.search("khám sàng lọc tăng huyết áp", k=3, doc_ids=[tan_an])
    assert hits and [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(h.document.doc_id == tan_an == h.doc_id and h.chunk.doc_id == tan_an for h in hits)
    with pytest.raises(ValueError, match="unknown document ids"):
        small.search("khám sàng lọc", doc_ids=["nope"])
