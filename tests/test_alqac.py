"""ALQAC-style statute articles: heading metadata, one chunk per short article, title scoping, and the metric
functions of evals/alqac.py.  Synthetic articles only (no benchmark text)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from evals.alqac import adaptive_cut, ci_subset, distinct_ranked, f2, learn_cut, load_alqac, retrieval_metrics
from ingest.chunking import ChunkSettings, chunk_document
from ingest.heading import article_heading, is_named_act
from ingest.metadata import extract_metadata
from ingest.records import Document, plan_label
from ingest.sections import build_sections, find_headings
from retriever.titles import TitleMatcher, title_matcher

ARTICLE = ("Luật Quản lý cây cảnh – Điều 7\nĐiều 7. Trách nhiệm của chủ vườn\n\n"
           "1. Chủ vườn cây cảnh có trách nhiệm chăm sóc cây theo hướng dẫn của cơ quan chuyên môn.\n"
           "2. Chủ vườn báo cáo Ủy ban nhân dân cấp xã trước ngày 15/3/2021 hằng năm về số cây.")


def _doc(doc_id: str, text: str) -> Document:
    sections = tuple(build_sections(doc_id, text, find_headings(text)))
    return Document(doc_id, f"{doc_id}.txt", text, extract_metadata(text), sections, "x")


def test_article_heading_is_the_identity_and_nothing_is_invented():
    m = extract_metadata(ARTICLE)
    assert (m.doc_type, m.title) == ("Luật Quản lý cây cảnh", "Luật Quản lý cây cảnh – Điều 7")
    assert (m.number, m.date, m.date_iso, m.issuer, m.locality, m.signer) == (None,) * 6  # the body's date is no date
    assert m.label == "Luật Quản lý cây cảnh – Điều 7"
    assert "None" not in plan_label(m.doc_type, m.number, m.issuer) and "chưa ghi số" not in m.label


def test_heading_grammar():
    assert article_heading("Bộ luật Ứng xử – Điều 12a\nĐiều 12a. …").article == "12a"
    assert article_heading("Hiến pháp - Điều 3\n…").act == "Hiến pháp"
    assert article_heading("KẾ HOẠCH\nTriển khai Luật Cư trú – Điều 3") is None  # not the first line
    assert article_heading("Kế hoạch số 07-KH/UBND – Điều 1") is None
    assert is_named_act("Luật Quản lý cây cảnh") and not is_named_act("Kế hoạch") and not is_named_act(None)
    assert plan_label("Kế hoạch", None) == "Kế hoạch (chưa ghi số)"  # plans keep their marker


def test_short_article_is_one_chunk_and_long_ones_still_split():
    doc = _doc("luat-x__dieu-007", ARTICLE)
    chunks = chunk_document(doc, ChunkSettings())
    assert len(chunks) == 1 and chunks[0].text == ARTICLE.strip()
    long = ARTICLE + "\n" + "\n".join(f"{i}. Khoản dài về việc chăm sóc cây cảnh số {i} " * 8 for i in range(3, 9))
    long_chunks = chunk_document(_doc("luat-x__dieu-008", long), ChunkSettings())
    assert len(long_chunks) > 1 and all(c.text == long[c.start:c.end] for c in long_chunks)


def test_title_matcher_finds_named_acts_in_any_case_or_accents():
    m = TitleMatcher([("a1", "Bộ luật Ứng xử"), ("a2", "Bộ luật Ứng xử"), ("b1", "Luật Quản lý cây cảnh"),
                      ("c1", "Luật Quản lý")])
    assert m.named_docs("Theo bộ luật ứng xử, ai phải chịu trách nhiệm?") == {"a1", "a2"}
    assert m.find("Luat quan ly cay canh quy dinh gi?") == ["luat quan ly cay canh"]  # longest title wins
    assert m.named_docs("Luật Quản lý năm 2020 quy định gì?") == {"c1"}
    assert m.named_docs("Người dân có quyền gì?") == set()
    plans = [SimpleNamespace(doc_id="p", meta=SimpleNamespace(doc_type="Kế hoạch"))]
    assert title_matcher(plans).find("Kế hoạch này") == []  # a plan's type word is not a title


def test_scope_named_act_through_the_scope_stage():
    from retriever.scope import ScopeResolver

    docs = {d.doc_id: d for d in (_doc("luat-a__dieu-001", ARTICLE),
                                  _doc("luat-b__dieu-001", ARTICLE.replace("Quản lý cây cảnh", "Nuôi ong")))}
    resolver = ScopeResolver.__new__(ScopeResolver)  # only the title look-up, no index needed
    resolver.titles = title_matcher(docs.values())
    assert resolver.titles.named_docs("Theo Luật Nuôi ong, chủ vườn phải làm gì?") == {"luat-b__dieu-001"}


def test_metrics():
    assert f2(["a"], {"a"}) == 1.0 and f2(["b"], {"a"}) == 0.0
    assert f2(["a", "b"], {"a"}) == pytest.approx(5 * 0.5 * 1 / (4 * 0.5 + 1))
    assert distinct_ranked([("a", 0.9), ("a", 0.8), ("b", 0.7)]) == [("a", 0.9), ("b", 0.7)]
    assert adaptive_cut([("a", 1.0), ("b", 0.95), ("c", 0.5)], 0.9) == ["a", "b"]
    recs = [{"gold": ["a"], "subsets": ["alqac2024_train_verified"], "ranked": {"p": [("b", 1.0), ("a", 0.99)]}},
            {"gold": ["c", "d"], "subsets": ["alqac2024_public_test"], "ranked": {"p": [("c", 1.0), ("x", 0.5)]}}]
    m = retrieval_metrics(recs, "p", cut=None)
    assert (m["recall@1"], m["recall@5"], m["mrr@10"]) == (0.25, 0.75, 0.75)
    assert m["f2@1"] == round((0 + f2(["c"], {"c", "d"})) / 2, 4)
    assert learn_cut(recs, "p") <= 0.99  # learned on the train question only: keep "a"
    assert learn_cut(recs[1:], "p") is None  # no train question: nothing is learned


def test_load_alqac_and_ci_subset(tmp_path):
    (tmp_path / "docs").mkdir()
    for name in ("luat-a__dieu-001", "luat-a__dieu-002", "luat-b__dieu-001"):
        (tmp_path / "docs" / f"{name}.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "questions.jsonl").write_text("\n".join(json.dumps({"id": i, "question": "Câu hỏi?"})
                                                        for i in ("q1", "q2")), encoding="utf-8")
    (tmp_path / "gold.tsv").write_text("q1\tluat-a__dieu-002.txt\nq2\tluat-b__dieu-001.txt\n", encoding="utf-8")
    (tmp_path / "splits.tsv").write_text("q1\talqac2024_public_test\nq2\talqac2024_train_verified\n",
                                         encoding="utf-8")
    ds = load_alqac(tmp_path)
    files, qs = ci_subset(ds)
    assert [q.id for q in qs] == ["q1"] and [f.stem for f in files] == ["luat-a__dieu-001", "luat-a__dieu-002"]
    (tmp_path / "gold.tsv").write_text("q1 luat-a\n", encoding="utf-8")
    with pytest.raises(ValueError, match="tab-separated"):
        load_alqac(tmp_path)
    with pytest.raises(FileNotFoundError, match="alqac2024"):
        load_alqac(tmp_path / "missing")
