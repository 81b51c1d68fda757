"""Assignments, targets and agency names extracted from the bundled plans (pinned values)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evals.extraction import evaluate_extraction
from ingest.agencies import agency_key, canonical_agency, find_agencies, match_agencies, same_agency
from ingest.assignments import Assignment, extract_assignments
from ingest.pipeline import load_document
from ingest.records import Document
from ingest.targets import Target, extract_targets

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT / "corpus"
SAMPLE = REPO_ROOT / "evals" / "assignments_sample.jsonl"
FILES = {p.name[:3]: p for p in sorted(CORPUS_DIR.glob("*.txt"))}


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    return {k: load_document(p) for k, p in FILES.items()}


@pytest.fixture(scope="module")
def assignments(docs: dict[str, Document]) -> dict[str, list[Assignment]]:
    return {k: extract_assignments(d) for k, d in docs.items()}


@pytest.fixture(scope="module")
def targets(docs: dict[str, Document]) -> dict[str, list[Target]]:
    return {k: extract_targets(d) for k, d in docs.items()}


def _rows(items: list[Assignment], appendix: str) -> list[Assignment]:
    return [a for a in items if a.form == "appendix_table" and a.section_path[0] == appendix]


def _item(items: list[Assignment], row: str) -> Assignment:
    found = [a for a in items if a.form == "prose" and a.row == row and a.section_path[0].startswith("IV.")]
    assert len(found) == 1, found
    return found[0]


def _target(items: list[Target], key: str, period: str) -> list[str]:
    return [t.value for t in items if t.indicator == key and t.period == period]


# ---------------------------------------------------------------- agency names


@pytest.mark.parametrize("printed, canonical", [
    ("UBND xã", "Ủy ban nhân dân xã"),
    ("Ủy ban nhân dân xã", "Ủy ban nhân dân xã"),
    ("S& Y té", "Sở Y tế"),
    ("SoYte", "Sở Y tế"),
    ("S3Y", "Sở Y tế"),
    ("so y te", "Sở Y tế"),
    ("Phòng Văn hóa- Xã hội", "Phòng Văn hóa - Xã hội"),
    ("Phòng Văn hoá - Xã hội", "Phòng Văn hóa - Xã hội"),
    ("Phòng VHXH", "Phòng Văn hóa - Xã hội"),
    ("Céng an tinh", "Công an tỉnh"),
    ("Công an xã", "Công an xã"),
    ("Trạm Y Tế xã", "Trạm Y tế xã"),
    ("Trạm Y tế", "Trạm Y tế"),
    ("BHXH cơ sở Mường La", "Bảo hiểm xã hội cơ sở Mường La"),
    ("Pang uy Uy ban nhan dan x4", "Đảng ủy Ủy ban nhân dân xã"),
    ("Ban xay dung Pang Pang ty", "Ban Xây dựng Đảng Đảng ủy"),
    ("ny ban Mit tran T6 quéc", "Ủy ban Mặt trận Tổ quốc"),
    ("Béng 1y céc co quan Pang tinh", "Đảng ủy các cơ quan Đảng tỉnh"),
    ("Uy ban Kiém tra Tinh uy", "Ủy ban Kiểm tra Tỉnh ủy"),
])
def test_canonical_agency(printed: str, canonical: str) -> None:
    assert canonical_agency(printed) == canonical


def test_unknown_names_are_cleaned_not_invented() -> None:
    assert canonical_agency("  Sở   Tư pháp ; ") == "Sở Tư pháp"
    assert canonical_agency("các đồng chí lãnh đạo") == "Các đồng chí lãnh đạo"
    assert canonical_agency("Trung tâm Y tế") == "Trung tâm Y tế"  # not "Trạm Y tế"


def test_agency_keys_group_spellings() -> None:
    assert agency_key("Sở Y tế") == agency_key("so y te") == agency_key("S& Y té") == "so y te"
    assert same_agency("UBND xã", "Ủy ban nhân dân xã")
    assert same_agency("Phòng Văn hóa- Xã hội", "Phòng VHXH")
    assert same_agency("Đảng ủy MTTQ Việt Nam tỉnh", "Đảng ủy Mặt trận Tổ quốc Việt Nam tỉnh")
    assert not same_agency("Trạm Y tế", "Trạm Y tế xã")
    assert not same_agency("Sở Y tế", "Sở Tài chính")


def test_find_agencies_spans_index_the_text() -> None:
    text = "2. Phòng Văn hóa- Xã hội chủ trì, phối hợp với các cơ quan liên quan hướng dẫn"
    found = find_agencies(text)
    assert [name for name, _, _ in found] == ["Phòng Văn hóa - Xã hội", "Các cơ quan liên quan"]
    assert text[found[0][1]:found[0][2]] == "Phòng Văn hóa- Xã hội"


def test_ocr_cells_are_read_fuzzily() -> None:
    def names(cell: str) -> list[str]:
        return [m.name for m in match_agencies(cell, cell=True)]

    assert names("S& Y té, Sev Tai chinh") == ["Sở Y tế", "Sở Tài chính"]
    assert names("S&Khoahoc va Céng nghé, SoYté") == ["Sở Khoa học và Công nghệ", "Sở Y tế"]
    assert names("Céng an tinh, g CHQS tnh,SdYt€") == ["Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh", "Sở Y tế"]
    assert names("S5 N6 U") == []  # unreadable stays unread


def test_clean_text_is_matched_exactly() -> None:
    assert find_agencies("ngành y tế các cấp") == []
    assert [n for n, _, _ in find_agencies("tham mưu Ban Thường vụ Đảng ủy")] == ["Ban Thường vụ Đảng ủy"]


# ---------------------------------------------------------------- assignments


def test_counts_per_plan(assignments: dict[str, list[Assignment]]) -> None:
    counts = {k: Counter(a.form for a in items) for k, items in assignments.items()}
    assert counts["000"] == {"prose": 11}
    assert counts["001"] == {"prose": 6}
    assert counts["002"] == {"prose": 6, "ocr_table": 27}
    assert counts["003"] == {"prose": 6}
    assert counts["004"] == {"prose": 4, "appendix_table": 44}


def test_source_spans_cite_the_text(docs: dict[str, Document],
                                    assignments: dict[str, list[Assignment]]) -> None:
    for key, items in assignments.items():
        for a in items:
            assert 0 <= a.start < a.end <= len(docs[key].text)
            assert a.source_span == (a.start, a.end)
            assert docs[key].text[a.start:a.end].strip() == docs[key].text[a.start:a.end]
    item = _item(assignments["001"], "2")
    assert docs["001"].text[item.start:item.end].startswith("2. Phòng Văn hóa- Xã hội chủ trì")


def test_json_round_trip(assignments: dict[str, list[Assignment]]) -> None:
    for a in assignments["004"][:5] + assignments["002"][-3:]:
        assert Assignment.from_json(a.to_json()) == a


def test_004_appendix_rows(assignments: dict[str, list[Assignment]]) -> None:
    pl1, pl2 = _rows(assignments["004"], "PHỤ LỤC 1"), _rows(assignments["004"], "PHỤ LỤC 02")
    assert len(pl1) == 13 and len(pl2) == 31
    assert [a.row for a in pl1] == [str(n) for n in range(1, 14)]
    assert all(a.lead and a.deadline and a.confidence == "high" for a in pl1 + pl2)
    row8 = next(a for a in pl1 if a.row == "8")
    assert row8.lead == ("Phòng Kinh tế",) and row8.deadline == "Từ năm 2026"
    assert row8.task.startswith("Trạm Y tế xã được đầu tư")  # a task naming an agency stays the task
    assert next(a for a in pl1 if a.row == "13").lead == ("Bảo hiểm xã hội cơ sở Mường La",)
    row61 = next(a for a in pl2 if a.row == "6.1")
    assert row61.lead == ("Công an xã",)
    assert row61.coordinating == ("Các cơ quan, đơn vị", "Trưởng các bản, tiểu khu")


def test_004_page_break_lines_join_the_task(assignments: dict[str, list[Assignment]]) -> None:
    row4 = [a for a in _rows(assignments["004"], "PHỤ LỤC 02") if a.row == "4"][0]
    assert row4.deadline == "Thường xuyên"
    assert row4.coordinating == ("Các cơ quan, đơn vị", "Các đơn vị trường học")
    assert row4.task.endswith("theo Quyết định phê duyệt của Thủ tướng Chính phủ")
    two_leads = [a for a in _rows(assignments["004"], "PHỤ LỤC 02") if len(a.lead) == 2]
    assert ("Phòng Văn hóa - Xã hội", "Trạm Y tế xã") in [a.lead for a in two_leads]


def test_prose_items(assignments: dict[str, list[Assignment]]) -> None:
    item = _item(assignments["001"], "2")
    assert item.lead == ("Phòng Văn hóa - Xã hội",)
    assert item.coordinating == ("Các cơ quan liên quan",)
    assert item.task.startswith("hướng dẫn việc tổ chức tuyên truyền")
    leaders = "Các đồng chí lãnh đạo các cơ quan, đơn vị, trưởng phòng ban"  # no lexicon name: up to the verb
    assert _item(assignments["001"], "1").lead == (leaders,)
    shared = ("Ủy ban Mặt trận Tổ quốc xã", "Các đoàn thể chính trị - xã hội xã")  # "… và … xã"
    assert _item(assignments["003"], "4").lead == shared
    heading = _item(assignments["004"], "1")
    assert heading.lead == ("Phòng Văn hóa - Xã hội",) and heading.deadline == "Trước ngày 10/11 hằng năm"
    assert heading.task.startswith("Chủ trì, tham mưu cho UBND xã")


def test_ocr_prose_items(assignments: dict[str, list[Assignment]]) -> None:
    items = assignments["002"]
    assert _item(items, "4").lead == ("Ủy ban Kiểm tra Tỉnh ủy",)
    assert _item(items, "4").coordinating == ("Các cơ quan liên quan",)
    assert _item(items, "1").deadline == "Hoàn thành trước ngày 15/12/2025"
    fifth = _item(items, "5")  # printed "3." by OCR
    assert fifth.lead == ("Đảng ủy Mặt trận Tổ quốc Việt Nam tỉnh", "Các tổ chức chính trị - xã hội")
    assert _item(assignments["000"], "3").lead == ("Ban Xây dựng Đảng Đảng ủy",)


def test_000_phan_cong_thuc_hien(docs: dict[str, Document], assignments: dict[str, list[Assignment]]) -> None:
    blocks = [a for a in assignments["000"] if "Phân công thực hiện" in a.section_path]
    assert len(blocks) == 7
    iii2 = [a for a in blocks if a.section_path[1].startswith("2.")]
    assert [a.lead for a in iii2] == [("Đảng ủy Ủy ban nhân dân xã",),
                                      ("Các chi, đảng bộ trực thuộc Đảng ủy",)]
    assert all(a.task.startswith("Hoan thién thé ché") for a in iii2)  # the subsection's title
    iii1 = [a for a in blocks if a.section_path[1].startswith("1.")][0]
    assert iii1.lead == ("Các chi, đảng bộ trực thuộc Đảng ủy",) and iii1.deadline == "Hằng năm"


def test_sentence_assignment_in_section_iii(assignments: dict[str, list[Assignment]]) -> None:
    found = [a for a in assignments["003"] if a.section_path[0].startswith("III.")]
    assert len(found) == 1
    assert found[0].lead == ("Ủy ban nhân dân xã",) and found[0].task.startswith("chủ động xây dựng cơ chế")


def test_002_ocr_table(assignments: dict[str, list[Assignment]]) -> None:
    rows = [a for a in assignments["002"] if a.form == "ocr_table"]
    assert [a.row for a in rows] == [str(n) for n in range(1, 24)] + ["23", "24", "25", "26"]
    with_lead = [a for a in rows if a.lead]
    assert len(with_lead) >= 22
    assert sum("Sở Y tế" in a.lead for a in rows) >= 20
    by_row = {a.row: a for a in rows}
    assert by_row["2"].lead == ("Sở Y tế", "Sở Tài chính")
    assert by_row["10"].lead == ("Công an tỉnh",)
    assert by_row["15"].lead == ("Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh", "Sở Y tế")
    # "Cơ quan phối hợp" and "Cấp ủy chỉ đạo" are read from each row, never stamped: row 3's coordinating
    # cell is unreadable OCR and stays empty; row 12's reads; row 3's directing cell reads "Ding iy / UBND".
    assert by_row["3"].coordinating == ()
    assert by_row["12"].coordinating == ("Các Sở, ban, ngành, địa phương liên quan",)
    assert by_row["3"].directing == ("Đảng ủy Ủy ban nhân dân",)
    assert by_row["1"].lead == () and by_row["1"].confidence == "low"  # unreadable: left unknown


# ---------------------------------------------------------------- targets


def test_target_counts(targets: dict[str, list[Target]]) -> None:
    assert {k: len(v) for k, v in targets.items()} == {"000": 14, "001": 29, "002": 14, "003": 11, "004": 11}


def test_targets_spot_values(targets: dict[str, list[Target]]) -> None:
    assert _target(targets["001"], "life_expectancy", "2026-2030") == ["75,5"]
    assert _target(targets["001"], "life_expectancy", "2021-2025") == ["73"]
    assert _target(targets["001"], "life_expectancy", "2030") == ["75,5"]
    assert _target(targets["001"], "life_expectancy", "2045") == [">80"]
    assert _target(targets["002"], "life_expectancy", "2030") == ["73"]
    assert _target(targets["002"], "healthy_years", "2030") == ["64"]
    assert _target(targets["004"], "height_gain", "2030") == ["1,6"]
    assert _target(targets["004"], "doctors_per_commune_clinic", "2027") == ["4-6"]
    assert _target(targets["003"], "doctors_per_commune_clinic", "2027") == ["4-5"]
    assert ">97" in _target(targets["000"], "insurance_coverage", "2030")
    assert _target(targets["004"], "vaccination", "2030") == [">95"]
    assert _target(targets["004"], "physical_activity", "2030") == ["+10"]
    assert _target(targets["003"], "free_checkup", "từ 2026") == ["1"]
    assert _target(targets["001"], "clinic_insured_treatment_share", "2030") == [">20"]


def test_target_records(docs: dict[str, Document], targets: dict[str, list[Target]]) -> None:
    t = next(t for t in targets["004"] if t.indicator == "height_gain")
    assert t.unit == "cm" and t.label.startswith("Tăng chiều cao")
    assert docs["004"].text[t.start:t.end].endswith("1,6cm")
    assert Target.from_json(t.to_json()) == t
    appendix = [t for t in targets["001"] if t.section_path[0] == "PHỤ LỤC 1"]
    assert len(appendix) == 18 and {t.period for t in appendix} == {"2021-2025", "2026-2030"}


# ---------------------------------------------------------------- evaluation


def test_extraction_meets_targets() -> None:
    result = evaluate_extraction(CORPUS_DIR, SAMPLE)
    assert result["precision"] >= 0.95
    assert result["recall"]["004/appendix_table"]["recall"] == 1.0
    assert result["recall"]["002/ocr_table"]["recall"] >= 0.80
    assert result["recall"]["prose"]["recall"] >= 0.95
    assert result["recall"]["all"]["found"] == result["recall"]["all"]["reference"]
