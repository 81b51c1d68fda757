"""Assignments of any agency, in any plan: made-up plans of other provinces, agencies and table headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.agencies import agency_key, canonical_agency
from ingest.agency_names import agencies_at
from ingest.assignments import Assignment, extract_assignments
from ingest.pipeline import load_document
from ingest.reading import reading_view

HEADER = """ỦY BAN NHÂN DÂN
TỈNH QUẢNG TRỊ
|
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM

Số: 88/KH-UBND
|
Quảng Trị, ngày 03 tháng 3 năm 2026

KẾ HOẠCH
Phòng chống sốt xuất huyết năm 2026

I. MỤC ĐÍCH, YÊU CẦU

Nâng cao nhận thức của người dân về phòng bệnh.

"""

LABELLED = HEADER + """II. NỘI DUNG

1. Tuyên truyền phòng chống sốt xuất huyết trên các phương tiện thông tin
đại chúng

- Cơ quan chủ trì: Sở Văn hóa, Thể
thao và Du lịch.

- Cơ quan phối hợp: Hội Liên hiệp Phụ nữ tỉnh; Tỉnh
Đoàn; UBND các xã, phường.

- Thời gian thực hiện: Quý II năm 2026.

2. Diệt lăng quăng tại hộ gia đình

- Cơ quan thực hiện: Trung tâm Kiểm soát bệnh tật tỉnh chủ
trì, phối hợp với Hội Nông dân tỉnh và Hội Cựu chiến binh tỉnh.

- Thời hạn: Trước ngày 30/6/2026.
"""

HEADINGS = HEADER + """III. TỔ CHỨC THỰC HIỆN

**1. Ban Dân tộc
tỉnh**

*a) Chủ trì, phối hợp với Đài Phát thanh và Truyền hình tỉnh xây dựng chuyên mục tiếng dân tộc.*

*b) Hướng dẫn người có uy tín vận động đồng bào diệt muỗi.*

**2. Liên đoàn Lao động tỉnh**

- Vận động công nhân tại các khu công nghiệp tham gia ngày vệ sinh môi trường.

3. Giao Chi cục Thú y chủ trì, phối hợp với Ban Chỉ huy Quân sự xã Cam Lộ giám sát ổ dịch.

4. Bộ Chỉ huy Bộ đội Biên phòng tỉnh có trách nhiệm tuyên truyền tại khu vực biên giới.
"""

TABLE = HEADER + """PHỤ LỤC

NHIỆM VỤ CỤ THỂ

|
**TT**
|
**Công việc**
|
**Đơn vị chủ trì**
|
**Đơn vị phối hợp**
|
**Tiến độ**
|
|
**I**
|
**NHÓM TRUYỀN THÔNG**
|
|
1
|
Sản xuất tờ rơi hướng dẫn diệt lăng quăng
|
Trung tâm Kiểm soát bệnh tật tỉnh
|
Sở Văn hóa, Thể thao và Du lịch
|
Tháng 4/2026
|
|
- In và cấp phát tờ rơi cho các thôn, bản
|
Tháng 5/2026
|
|
2
|
Phun hóa chất tại ổ dịch
|
Ủy ban nhân dân xã Gio Linh
|
- Trạm Y tế xã;
- Công an xã
|
Thường xuyên
|
"""


def _doc(tmp_path: Path, text: str, name: str = "plan.txt"):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return load_document(path)


def _by_task(found: list[Assignment], words: str) -> Assignment:
    hits = [a for a in found if words in a.task]
    assert hits, f"no assignment with task {words!r}: {[a.task for a in found]}"
    return hits[0]


def _keys(names: tuple[str, ...]) -> set[str]:
    return {agency_key(n) for n in names}


@pytest.mark.parametrize(("printed", "canonical"), [
    ("Hội LHPN tỉnh", "Hội Liên hiệp Phụ nữ tỉnh"),
    ("Đoàn TN xã", "Đoàn Thanh niên Cộng sản Hồ Chí Minh xã"),
    ("Tỉnh đoàn", "Tỉnh Đoàn"),
    ("Hội CCB xã", "Hội Cựu chiến binh xã"),
    ("LĐLĐ tỉnh", "Liên đoàn Lao động tỉnh"),
    ("BCHQS tỉnh", "Bộ Chỉ huy Quân sự tỉnh"),
    ("Ủy ban MTTQ phường", "Ủy ban Mặt trận Tổ quốc phường"),
])
def test_mass_organisations_and_abbreviations(printed: str, canonical: str) -> None:
    assert canonical_agency(printed) == canonical


def test_any_agency_name_by_its_grammar() -> None:
    text = "Chi cục Kiểm lâm, Ban Quản lý rừng phòng hộ và các hạt kiểm lâm có liên quan tổ chức tuần tra."
    names, end = agencies_at(text, 0)
    assert names == ("Chi cục Kiểm lâm", "Ban Quản lý rừng phòng hộ", "Các hạt kiểm lâm có liên quan")
    assert text[end:].startswith(" tổ chức")
    # a capitalised verb belongs to the name; a lower-case one opens the predicate
    assert agencies_at("Ban Chỉ đạo phòng chống thiên tai tỉnh chỉ đạo các xã", 0)[0] == (
        "Ban Chỉ đạo phòng chống thiên tai tỉnh",)
    assert agencies_at("Bảo đảm an toàn cho người dân", 0)[0] == ()  # a verb, not "Báo …"


def test_names_wrapped_over_lines() -> None:
    # a name cut by a line break mid-sentence goes on; a new line that opens in capitals is a new item
    text = ("các hội, đoàn thể của huyện; Ủy ban nhân\ndân các thị trấn; các trường học có\nliên quan "
            "tổ chức tuyên truyền.")
    names, _ = agencies_at(text, 0)
    assert names == ("Các hội, đoàn thể của huyện", "Ủy ban nhân dân các thị trấn",
                     "Các trường học có liên quan")
    cells = "Chi cục Thú y\nTrung tâm Khuyến nông\nNăm 2027"
    assert agencies_at(cells, 0)[0] == ("Chi cục Thú y",)
    assert agencies_at("Ban Quản lý\n\ndự án", 0)[0] == ("Ban Quản lý",)  # a blank line ends the paragraph


def test_labelled_fields(tmp_path: Path) -> None:
    found = extract_assignments(_doc(tmp_path, LABELLED))
    first = _by_task(found, "Tuyên truyền phòng chống sốt xuất huyết")
    assert first.lead == ("Sở Văn hóa, Thể thao và Du lịch",)
    assert _keys(first.coordinating) == _keys(("Hội Liên hiệp Phụ nữ tỉnh", "Tỉnh Đoàn",
                                                "Ủy ban nhân dân các xã, phường"))
    assert first.deadline == "Quý II năm 2026"
    second = _by_task(found, "Diệt lăng quăng")
    assert second.lead == ("Trung tâm Kiểm soát bệnh tật tỉnh",)
    assert _keys(second.coordinating) == _keys(("Hội Nông dân tỉnh", "Hội Cựu chiến binh tỉnh"))
    assert second.deadline == "Trước ngày 30/6/2026"


def test_agency_headings_and_sentences(tmp_path: Path) -> None:
    found = extract_assignments(_doc(tmp_path, HEADINGS))
    a = _by_task(found, "xây dựng chuyên mục tiếng dân tộc")
    assert a.lead == ("Ban Dân tộc tỉnh",) and a.coordinating == ("Đài Phát thanh và Truyền hình tỉnh",)
    assert _by_task(found, "người có uy tín").lead == ("Ban Dân tộc tỉnh",)
    assert _by_task(found, "ngày vệ sinh môi trường").lead == ("Liên đoàn Lao động tỉnh",)
    giao = _by_task(found, "giám sát ổ dịch")
    assert giao.lead == ("Chi cục Thú y",)
    assert giao.coordinating == ("Ban Chỉ huy Quân sự xã Cam Lộ",)
    assert _by_task(found, "khu vực biên giới").lead == ("Bộ Chỉ huy Bộ đội Biên phòng tỉnh",)


def test_flattened_table_with_its_own_headers(tmp_path: Path) -> None:
    doc = _doc(tmp_path, TABLE)
    rows = [a for a in extract_assignments(doc) if a.form == "appendix_table"]
    assert [a.row for a in rows] == ["1", None, "2"]
    one, merged, two = rows
    assert one.lead == ("Trung tâm Kiểm soát bệnh tật tỉnh",) and one.deadline == "Tháng 4/2026"
    assert one.coordinating == ("Sở Văn hóa, Thể thao và Du lịch",)
    assert one.section_path == ("NHÓM TRUYỀN THÔNG",) or one.section_path[-1].endswith("TRUYỀN THÔNG")
    # a row without its own number continues the merged lead cell above
    assert merged.lead == one.lead and merged.task.startswith("In và cấp phát") and merged.deadline == "Tháng 5/2026"
    assert two.lead == ("Ủy ban nhân dân xã Gio Linh",)
    assert _keys(two.coordinating) == _keys(("Trạm Y tế xã", "Công an xã")) and two.deadline == "Thường xuyên"
    for a in rows:  # spans cite the original text
        assert doc.text[a.start:a.end].strip()


def test_nothing_is_stamped_on_an_unreadable_row(tmp_path: Path) -> None:
    text = TABLE.replace("Trung tâm Kiểm soát bệnh tật tỉnh\n|\nSở Văn hóa", "\n|\nSở Văn hóa")
    rows = [a for a in extract_assignments(_doc(tmp_path, text)) if a.form == "appendix_table"]
    assert rows[0].lead == () and rows[0].confidence == "low"


def test_reading_view_joins_wraps_and_keeps_offsets() -> None:
    text = "**1. Sở Khoa\nhọc và Công nghệ**\n\n- Cơ quan phối hợp: Các sở,\nngành.\n"
    view = reading_view(text)
    assert "1. Sở Khoa học và Công nghệ" in view.text
    assert "- Cơ quan phối hợp: Các sở, ngành." in view.text
    a = view.text.index("Công nghệ")
    start, end = view.span(a, a + len("Công nghệ"))
    assert text[start:end] == "Công nghệ"


def test_a_sentence_without_subject_carries_on_the_assignment(tmp_path: Path) -> None:
    # "Chủ trì, phối hợp với Y …" with no subject of its own goes on with the agency of the sentence before it;
    # the assignment's section is the numbered item that holds it, even in a Markdown copy
    text = HEADER + """**III. TỔ CHỨC THỰC HIỆN**

2. Phòng Văn hóa - Xã hội hướng dẫn các thôn tổ chức diệt lăng quăng hằng tuần. Chủ trì, phối hợp với
Trạm Y tế xã kiểm tra kết quả, báo cáo Ủy ban nhân dân xã.
"""
    found = [a for a in extract_assignments(_doc(tmp_path, text, "plan.md")) if "lăng quăng" in a.task]
    assert len(found) == 1
    assert found[0].lead == ("Phòng Văn hóa - Xã hội",) and found[0].coordinating == ("Trạm Y tế xã",)
    assert found[0].section_path[0] == "III. TỔ CHỨC THỰC HIỆN" and found[0].section_path[-1] == "2"
