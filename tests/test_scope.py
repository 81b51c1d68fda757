"""Scoping a question by the places it names (the gazetteer): a plan's own area, a province plan that mentions the
commune asked about, refusals that name the place, and provinces merged in 2025.  Two made-up plans, a hashing
encoder (no model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from stand_ins import HashingEncoder

from index.store import build_index, load_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths
from ingest.places import find_places, gazetteer
from retriever.query import analyse
from retriever.service import Retriever

PROVINCE_PLAN = """ỦY BAN NHÂN DÂN
TỈNH QUẢNG TRỊ
Số 21/KH-UBND
Quảng Trị, ngày 05 tháng 3 năm 2026
KẾ HOẠCH
phát triển thể dục thể thao quần chúng
Ủy ban nhân dân tỉnh Quảng Trị ban hành kế hoạch như sau:
I. MỤC TIÊU
1. Đến năm 2030, tỷ lệ người dân tập luyện thể dục thể thao thường xuyên đạt 40%.
II. NHIỆM VỤ
1. Xây dựng sân thể thao cộng đồng tại xã Kim Điền và phường Ba Đồn.
III. TỔ CHỨC THỰC HIỆN
1. Sở Văn hóa, Thể thao và Du lịch chủ trì xây dựng sân thể thao cộng đồng, hoàn thành trước ngày 31/12/2027.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Hoàng Văn Minh
"""
COMMUNE_PLAN = """ĐẢNG BỘ TỈNH CÀ MAU
ĐẢNG ỦY XÃ TÂN THUẬN
Số 04-KH/ĐU
Tân Thuận, ngày 10 tháng 4 năm 2026
KẾ HOẠCH
tổ chức giải bóng đá thiếu niên
Ban Thường vụ Đảng ủy xã Tân Thuận ban hành kế hoạch như sau:
I. MỤC TIÊU
1. Mỗi ấp có ít nhất một đội bóng đá thiếu niên.
II. TỔ CHỨC THỰC HIỆN
1. Đoàn Thanh niên xã chủ trì tổ chức giải bóng đá thiếu niên, hoàn thành trước ngày 30/8/2026.
T/M BAN THƯỜNG VỤ
BÍ THƯ
Ngô Thị Hạnh
"""


@pytest.fixture(scope="module")
def r(tmp_path_factory) -> Retriever:
    src = tmp_path_factory.mktemp("plans")
    (src / "quang_tri.txt").write_text(PROVINCE_PLAN, "utf-8")
    (src / "tan_thuan.txt").write_text(COMMUNE_PLAN, "utf-8")
    (src / "README.md").write_text("# Ghi chú\nThư mục này chứa hai kế hoạch mẫu.\n", "utf-8")  # not a plan
    docs, chunks = ingest_paths([src], ChunkSettings(), progress=False)
    out = Path(tmp_path_factory.mktemp("index")) / "index"
    build_index(docs, chunks, HashingEncoder(), out, ChunkSettings(), progress=False)
    return Retriever(load_index(out), HashingEncoder())


def _scope(r: Retriever, question: str):
    return r.scope.resolve(analyse(question, r.scope.places), None)


def test_a_folder_note_is_not_indexed(r):
    assert set(r.documents) == {"quang_tri", "tan_thuan"}


def test_a_plans_own_area_comes_from_its_locality_and_header(r):
    areas = r.scope.gazetteer_places.areas
    assert areas["quang_tri"].province_level and areas["quang_tri"].key == "quang tri"
    assert not areas["tan_thuan"].province_level and areas["tan_thuan"].province == "ca mau"


@pytest.mark.parametrize("question", ["Xã Tân Thuận giao ai chủ trì tổ chức giải bóng đá thiếu niên?",
                                      "xa tan thuan giao ai chu tri giai bong da thieu nien"])
def test_a_commune_with_its_own_plan_scopes_to_it(r, question):
    assert _scope(r, question).docs == ["tan_thuan"]
    ans = r.ask(question)
    assert not ans.abstained and {c.doc_id for c in ans.citations} == {"tan_thuan"}


def test_a_commune_the_province_plan_mentions_is_answered_from_it(r):
    question = "Ở xã Kim Điền, cơ quan nào chủ trì xây dựng sân thể thao cộng đồng?"
    assert _scope(r, question).docs == ["quang_tri"]
    ans = r.ask(question)
    assert not ans.abstained and "Sở Văn hóa, Thể thao và Du lịch" in ans.answer


def test_a_known_place_without_a_plan_is_refused_by_name(r):
    assert gazetteer().lookup("Đồng Hới", "phường")  # a real ward of Quảng Trị, which the plan never names
    ans = r.ask("Phường Đồng Hới giao cơ quan nào chủ trì xây dựng sân thể thao cộng đồng?")
    assert ans.abstained and ans.citations == ()
    assert "không có kế hoạch nào của phường Đồng Hới" in ans.answer
    merged = _scope(r, "Tỉnh Bạc Liêu có kế hoạch tổ chức giải bóng đá thiếu niên không?")  # now part of Cà Mau
    assert merged.docs == ["tan_thuan"] and "Bạc Liêu" in merged.note and "Cà Mau" in merged.note


def test_an_unknown_place_like_name_is_refused_by_name(r):
    ans = r.ask("Xã Đồi Mây Trắng giao ai chủ trì tổ chức giải bóng đá thiếu niên?")
    assert ans.abstained and ans.citations == () and "xã Đồi Mây Trắng" in ans.answer


def test_phrases_that_only_look_like_places_do_not_refuse(r):
    for question in ("Xây dựng xã Nông thôn mới có trong kế hoạch nào không?",
                     "Ủy ban nhân dân Xã Chủ trì xây dựng sân thể thao cộng đồng ở đâu?"):
        assert _scope(r, question).reason is None


def test_a_province_merged_in_2025_is_answered_from_its_successor_saying_so(r):
    question = "Tỉnh Quảng Bình giao cơ quan nào chủ trì xây dựng sân thể thao cộng đồng?"
    scope = _scope(r, question)
    assert scope.docs == ["quang_tri"] and "Quảng Bình" in scope.note and "Quảng Trị" in scope.note
    ans = r.ask(question)
    assert not ans.abstained and ans.answer.startswith(scope.note)
    refused = r.ask("Tỉnh Hà Giang giao cơ quan nào chủ trì xây dựng sân thể thao?")  # now part of Tuyên Quang
    assert refused.abstained and refused.citations == ()
    assert "tỉnh Hà Giang" in refused.answer and "Tuyên Quang" in refused.answer


def test_a_unit_of_the_same_name_in_another_province_is_not_the_plans_commune(r):
    # the gazetteer has units named Tân Thuận outside Cà Mau; a question that says which one is not answered
    # from the Cà Mau commune's plan
    others = {u.province for u in gazetteer().lookup("Tân Thuận")} - {"Cà Mau"}
    assert others
    (m, *_) = find_places(f"xã Tân Thuận, {sorted(others)[0]}")
    assert m.province == sorted(others)[0]
    found = r.scope.gazetteer_places.plans_of(m)
    assert not found.docs and "xã Tân Thuận" in found.reason
