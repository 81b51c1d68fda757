"""Metadata and sections of any plan: the eight real plans of plans-dev, made-up headers of other
issuers (provinces, communes, ministries, party committees, OCR damage), the number grammar,
a Markdown copy of a plain plan, and OCR repairs kept off clean text.

The plans-dev folder is read where it lies: ``KEHOACH_PLANS_DEV`` or ``../shared/external/plans-dev``
from the repository root.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ingest import docnumber, layout
from ingest.chunking import chunk_document
from ingest.metadata import extract_metadata
from ingest.pipeline import load_document
from ingest.sections import build_sections, find_headings
from ingest.textnorm import fold, is_ocr_text, repaired, search_tokens

ROOT = Path(__file__).resolve().parent.parent
PLANS_DEV = Path(os.environ.get("KEHOACH_PLANS_DEV", ROOT.parent / "shared" / "external" / "plans-dev"))
needs_plans_dev = pytest.mark.skipif(
    not PLANS_DEV.is_dir(), reason=f"plans-dev folder not found at {PLANS_DEV} (set KEHOACH_PLANS_DEV)")

# file → (type, issued type, number, issuer, locality, date, signer), read from each file's header and signature
EXPECTED = {
    "d1_hcm_binhdanggioi.txt": ("Kế hoạch", None, "174/KH-UBND", "Ủy ban nhân dân thành phố Hồ Chí Minh",
                                "thành phố Hồ Chí Minh", "18/11/2025", "Trần Thị Diệu Thúy"),
    "d2_cantho_trogiupxahoi.txt": ("Kế hoạch", None, "157/KH-UBND", "Ủy ban nhân dân thành phố Cần Thơ",
                                   "thành phố Cần Thơ", "18/11/2025", "Nguyễn Thị Ngọc Điệp"),
    "d3_hatinh_mamnon.txt": ("Kế hoạch", None, "624/KH-UBND", "Ủy ban nhân dân tỉnh Hà Tĩnh", "tỉnh Hà Tĩnh",
                             "19/11/2025", "Nguyễn Thị Nguyệt"),
    "d4_ttg_khongkhi.txt": ("Quyết định", "Kế hoạch", "2530/QĐ-TTg", "Thủ tướng Chính phủ", None, "19/11/2025",
                            "Trần Hồng Hà"),
    "d5_nghean_phongthudansu.txt": ("Kế hoạch", None, "980/KH-UBND", "Ủy ban nhân dân tỉnh Nghệ An", "tỉnh Nghệ An",
                                    "18/11/2025", "Nguyễn Văn Đệ"),
    "d6_sonla_xuatkhau.txt": ("Quyết định", "Kế hoạch", "2954/QĐ-UBND", "Ủy ban nhân dân tỉnh Sơn La", "tỉnh Sơn La",
                              "20/11/2025", "Nguyễn Thành Công"),
    "d7_laichau_tieuchuan.txt": ("Kế hoạch", None, "7360/KH-UBND", "Ủy ban nhân dân tỉnh Lai Châu", "tỉnh Lai Châu",
                                 "19/11/2025", "Tống Thanh Hải"),
    "d8_dongthap_doimoicongnghe.txt": ("Kế hoạch", None, "552/KH-UBND", "Ủy ban nhân dân tỉnh Đồng Tháp",
                                       "tỉnh Đồng Tháp", "19/11/2025", "Huỳnh Minh Tuấn"),
}
# file → (Roman parts at the top level, other top-level headings that must be there)
EXPECTED_TOP = {
    "d1_hcm_binhdanggioi.txt": (7, ["I. MỤC ĐÍCH, YÊU CẦU", "V. TỔ CHỨC THỰC HIỆN", "VII. CHẾ ĐỘ BÁO CÁO"]),
    "d2_cantho_trogiupxahoi.txt": (5, ["IV. KHEN THƯỞNG", "V. TỔ CHỨC THỰC HIỆN", "PHỤ LỤC"]),
    "d3_hatinh_mamnon.txt": (5, ["II. MỤC TIÊU", "III. NHIỆM VỤ, GIẢI PHÁP", "V. TỔ CHỨC THỰC HIỆN"]),
    "d4_ttg_khongkhi.txt": (5, ["Điều 1", "IV. TỔ CHỨC THỰC HIỆN", "Điều 3", "PHỤ LỤC I", "PHỤ LỤC II"]),
    "d5_nghean_phongthudansu.txt": (4, ["II. NỘI DUNG", "IV. TỔ CHỨC THỰC HIỆN", "PHỤ LỤC"]),
    "d6_sonla_xuatkhau.txt": (6, ["Điều 2", "KẾ HOẠCH", "V. TỔ CHỨC THỰC HIỆN", "V. CHẾ ĐỘ BÁO CÁO", "PHỤ LỤC 01",
                                  "PHỤ LỤC 02"]),
    "d7_laichau_tieuchuan.txt": (4, ["II. NỘI DUNG KẾ HOẠCH", "IV. TỔ CHỨC THỰC HIỆN"]),
    "d8_dongthap_doimoicongnghe.txt": (7, ["III. LỘ TRÌNH THỰC HIỆN", "PHỤ LỤC",
                                           "VI. TỔ CHỨC THEO DÕI, KIỂM TRA VÀ CHẾ ĐỘ BÁO CÁO"]),
}


@pytest.fixture(scope="module")
def dev_docs():
    return {name: load_document(PLANS_DEV / name) for name in EXPECTED}


@needs_plans_dev
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_plans_dev_metadata(dev_docs, name):
    m = dev_docs[name].meta
    got = (m.doc_type, m.issued_type, m.number, m.issuer, m.locality, m.date, m.signer)
    assert got == EXPECTED[name]
    assert not m.ocr


@needs_plans_dev
@pytest.mark.parametrize("name", sorted(EXPECTED_TOP))
def test_plans_dev_section_tree(dev_docs, name):
    doc = dev_docs[name]
    top = [s for s in doc.sections if len(s.path) == 1]
    parts, required = EXPECTED_TOP[name]
    assert sum(1 for s in top if s.kind == "part") == parts
    labels = [s.path[0] for s in top]
    for label in required:
        assert label in labels
    assert labels[0] == "Phần mở đầu"


@needs_plans_dev
def test_plans_dev_agency_headings_and_points(dev_docs):
    labels = [s.label for s in dev_docs["d2_cantho_trogiupxahoi.txt"].sections]
    assert "V. TỔ CHỨC THỰC HIỆN › 1. Sở Y tế" in labels  # "**1. Sở Y tế**"
    assert "II. ĐỐI TƯỢNG VÀ THỜI GIAN THI ĐUA › 1. Đối tượng thi đua › a) Tập thể" in labels
    labels8 = [s.label for s in dev_docs["d8_dongthap_doimoicongnghe.txt"].sections]
    assert any(lb.startswith("V. TỔ CHỨC THỰC HIỆN › 1. Sở Khoa học và Công nghệ") for lb in labels8)


@needs_plans_dev
def test_plans_dev_site_chrome_is_left_out(dev_docs):
    for name in ("d4_ttg_khongkhi.txt", "d5_nghean_phongthudansu.txt"):
        doc = dev_docs[name]
        start, end = layout.document_span(doc.text)
        assert 0 < start < 5000 < end < len(doc.text)
        assert fold(doc.text[start:start + 40]).lstrip("* ").startswith(("thu", "uy ban"))
        for c in chunk_document(doc):
            assert doc.text[c.start:c.end] == c.text
            assert "Văn bản liên quan" not in c.text and "THƯ VIỆN PHÁP LUẬT" not in c.text


# ---- made-up headers (not from any real plan) -------------------------------------------------

SO_Y_TE = """UBND TỈNH QUẢNG TRỊ
SỞ Y TẾ
-------
|
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
|
Số: 45/KH-SYT
|
Quảng Trị, ngày 3 tháng 2 năm 2026

KẾ HOẠCH
Phòng, chống dịch bệnh mùa đông xuân năm 2026

Căn cứ Quyết định số 12/QĐ-UBND ngày 15 tháng 8 năm 2024 của Ủy ban nhân dân tỉnh;

I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
Chủ động phòng, chống dịch bệnh.
II. TỔ CHỨC THỰC HIỆN
Các đơn vị triển khai thực hiện.

Nơi nhận:
- Như trên;
- Lưu: VT.
|
KT. GIÁM ĐỐC
PHÓ GIÁM ĐỐC
Lê Văn Bình
"""

PARTY_COMMUNE = """ĐẢNG BỘ TỈNH GIA LAI
ĐẢNG ỦY XÃ IA GRAI
*
ĐẢNG CỘNG SẢN VIỆT NAM
Ia Grai, ngày 05 tháng 3 năm 2026
Số 15-HD/ĐU

HƯỚNG DẪN
Tổ chức hội nghị học tập nghị quyết

I. MỤC ĐÍCH
Nội dung.
Nơi nhận:
- Các chi bộ,
- Lưu VPĐU.
T/M ĐẢNG ỦY
BÍ THƯ
Ksor Hơn
"""

MINISTRY = """BỘ Y TẾ
-------
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 1234/QĐ-BYT
Hà Nội, ngày 10 tháng 4 năm 2026

QUYẾT ĐỊNH
Về việc ban hành Kế hoạch tiêm chủng mở rộng năm 2026

BỘ TRƯỞNG BỘ Y TẾ

Căn cứ Nghị định số 42/2025/NĐ-CP ngày 27 tháng 02 năm 2025 của Chính phủ;

QUYẾT ĐỊNH:
Điều 1. Ban hành kèm theo Quyết định này Kế hoạch tiêm chủng mở rộng năm 2026.
Điều 2. Quyết định có hiệu lực kể từ ngày ký.

Nơi nhận:
- Như Điều 2;
- Lưu: VT.
KT. BỘ TRƯỞNG
THỨ TRƯỞNG
Đỗ Thị Mai
"""

PROVINCIAL_PARTY = """TỈNH ỦY CAO BẰNG
*
ĐẢNG CỘNG SẢN VIỆT NAM
Số 07-CTr/TU
Cao Bằng, ngày 2 tháng 12 năm 2025

CHƯƠNG TRÌNH HÀNH ĐỘNG
Thực hiện Nghị quyết của Bộ Chính trị về chuyển đổi số

I. MỤC TIÊU
Nội dung.
Nơi nhận:
- Các huyện ủy,
- Lưu Văn phòng Tỉnh ủy.
T/M BAN THƯỜNG VỤ
BÍ THƯ
Hoàng Văn Thạch
"""

OCR_COMMUNE = """UY BAN NHAN DAN CONG HOA XA HOI CHU NGHIA VIET NAM
XA PONG HOA Doc lap - Tu do - Hanh phuc
S6: 0130/KH-UBND Pong Hoa, ngay 21 thang 11 nam 2025
KE HOACH
Trien khai cong tac phong chong lut bao nam 2026
Can cu Ke hoach so 12/KH-UBND ngay 02/01/2024 cua UBND tinh;
I. MUC DICH, YEU CAU
Noi dung trien khai.
II. TO CHUC THUC HIEN
Cac don vi thuc hien.
Noi nhan:
- Nhu tren;
TM. UY BAN NHAN DAN
CHU TICH
Tran Van Hoa
"""


@pytest.mark.parametrize("text,expected", [
    (SO_Y_TE, ("Kế hoạch", "45/KH-SYT", "Sở Y tế tỉnh Quảng Trị", "tỉnh Quảng Trị", "03/02/2026", "Lê Văn Bình")),
    (PARTY_COMMUNE, ("Hướng dẫn", "15-HD/ĐU", "Đảng ủy xã Ia Grai", "xã Ia Grai", "05/03/2026", "Ksor Hơn")),
    (MINISTRY, ("Quyết định", "1234/QĐ-BYT", "Bộ Y tế", None, "10/04/2026", "Đỗ Thị Mai")),
    (PROVINCIAL_PARTY, ("Chương trình hành động", "07-CTr/TU", "Ban Thường vụ Tỉnh ủy Cao Bằng", "tỉnh Cao Bằng",
                        "02/12/2025", "Hoàng Văn Thạch")),
    # the OCR commune exists in the national gazetteer, so its name is restored with diacritics
    (OCR_COMMUNE, ("Kế hoạch", "0130/KH-UBND", "Ủy ban nhân dân xã Đông Hòa", "xã Đông Hòa", "21/11/2025",
                   "Tran Van Hoa")),
])
def test_made_up_headers(text, expected):
    m = extract_metadata(text)
    assert (m.doc_type, m.number, m.issuer, m.locality, m.date, m.signer) == expected


def test_own_date_not_a_cited_one():
    m = extract_metadata(SO_Y_TE)
    assert m.date_iso == "2026-02-03"  # the body cites 15/8/2024; the header's own date wins


def test_decision_issuing_a_plan_answers_to_both_types():
    m = extract_metadata(MINISTRY)
    assert m.issued_type == "Kế hoạch" and m.types == ("Quyết định", "Kế hoạch")
    assert m.title == "Về việc ban hành Kế hoạch tiêm chủng mở rộng năm 2026"
    mention = docnumber.find_mentions("Kế hoạch 1234 giao ai làm gì?")[0]
    kinds = tuple(k for k, t in docnumber.TYPE_OF_KIND.items() if t in m.types)
    assert mention.matches(docnumber.parse(m.number), kinds)
    assert not mention.matches(docnumber.parse(m.number), ())  # a Quyết định alone is not "Kế hoạch 1234"
    labels = [s.label for s in build_sections("x", MINISTRY, find_headings(MINISTRY))]
    assert "Điều 1" in labels and "Điều 2" in labels


def test_ocr_header_detected_and_repaired():
    assert is_ocr_text(OCR_COMMUNE)
    m = extract_metadata(OCR_COMMUNE)
    assert m.ocr and m.number_raw == "S6: 0130/KH-UBND"


# ---- number grammar --------------------------------------------------------------------------

@pytest.mark.parametrize("printed,canonical,doc_type", [
    ("Số: 318/KH-UBND", "318/KH-UBND", "Kế hoạch"),
    ("0207/KH-UBND", "0207/KH-UBND", "Kế hoạch"),
    ("Số 21 - KH/HU", "21-KH/HU", "Kế hoạch"),
    ("33-CTr/PU", "33-CTr/ĐU", "Chương trình hành động"),  # OCR read Đ as P
    ("419/NQ-HĐND", "419/NQ-HĐND", "Nghị quyết"),
    ("1788/QĐ-TTG", "1788/QĐ-TTg", "Quyết định"),
    ("81/2024/NĐ-CP", "81/2024/NĐ-CP", "Nghị định"),
    ("09/2026/TT-BYT", "09/2026/TT-BYT", "Thông tư"),
    ("61/2020/QH14", "61/2020/QH14", "Luật"),
    ("27-HD/BTGTW", "27-HD/BTGTW", "Hướng dẫn"),
    ("512/UBND-VX", "512/UBND-VX", "Công văn"),
    ("3O6/TB-UBND", "306/TB-UBND", "Thông báo"),  # OCR read 0 as O
])
def test_number_grammar(printed, canonical, doc_type):
    n = docnumber.parse(printed)
    assert str(n) == canonical and n.doc_type == doc_type
    assert docnumber.normalise(printed) == canonical


def test_number_keys_ignore_leading_zeros_and_case():
    assert docnumber.parse("0207/KH-UBND").key == docnumber.parse("207/kh-ubnd").key == "207/kh-ubnd"
    assert docnumber.parse("ngày 21/11/2025") is None  # a date is not a number


@pytest.mark.parametrize("printed,serial,kind", [
    ("S610 - CTr/TU", "10", "CTr"),  # "Số" read as "S6", glued to the serial
    ("$6 44 -KH/TU", "44", "KH"),
    ("Sé: 77/KH-UBND", "77", "KH"),
    ("Số:\n318/KH-UBND", "318", "KH"),  # wrapped after "Số:"
])
def test_header_number_ocr_variants(printed, serial, kind):
    n, start, _ = docnumber.header_number(printed)
    assert (n.serial, n.kind, start) == (serial, kind, 0)


@pytest.mark.parametrize("question,expected", [
    ("kế hoạch 318 giao ai chủ trì?", [("318", "KH", None)]),
    ("KH 318/KH-UBND có mục tiêu gì", [("318", "KH", "318/KH-UBND")]),
    ("ke hoach so 07 cua tinh uy", [("07", "KH", None)]),
    ("Quyết định 1788/QĐ-TTg và QĐ 2954", [("1788", "QĐ", "1788/QĐ-TTg"), ("2954", "QĐ", None)]),
    ("chương trình hành động số 33 của đảng ủy", [("33", "CTr", None)]),
    ("kế hoạch 2026 có gì mới", []),  # a year, not a number
    ("đã 5 năm triển khai", []),  # "đã" is not the kind "ĐA"
])
def test_find_mentions(question, expected):
    got = [(m.serial, m.kind, str(m.number) if m.number else None) for m in docnumber.find_mentions(question)]
    assert got == expected


# ---- Markdown copy of a plain plan -----------------------------------------------------------

PLAIN = """ỦY BAN NHÂN DÂN
TỈNH BÌNH ĐỊNH
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 88/KH-UBND
Bình Định, ngày 14 tháng 5 năm 2026

KẾ HOẠCH
Nâng cao chất lượng dân số giai đoạn 2026 - 2030

Căn cứ Nghị quyết số 21-NQ/TW ngày 25 tháng 10 năm 2017 của Ban Chấp hành Trung ương;

I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
Nâng cao chất lượng dân số.
2. Yêu cầu
Bảo đảm đồng bộ.
II. NHIỆM VỤ, GIẢI PHÁP
1. Truyền thông
a) Tổ chức truyền thông
Các hoạt động truyền thông.
b) Tập huấn cán bộ
Tập huấn cho cán bộ cơ sở.
2. Dịch vụ
Mở rộng dịch vụ.
III. TỔ CHỨC THỰC HIỆN
1. Sở Y tế
Chủ trì triển khai Kế hoạch.
2. Sở Tài chính
Bố trí kinh phí.

Nơi nhận:
- Như trên;
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH
Phạm Anh Tuấn
"""


def _as_markdown(plain: str) -> str:
    """What copying the plan from a legal website gives: bold wrapped headings, "|" cells, italic date."""
    out = ["Trang chủ › Văn bản pháp luật", "Đăng nhập | Đăng ký", "|"]
    for line in plain.splitlines():
        s = line.strip()
        if re.match(r"^(?:[IVX]+\.|\d\.)\s", s) or s in ("KẾ HOẠCH", "ỦY BAN NHÂN DÂN"):
            words = s.split()
            half = max(1, len(words) // 2)  # the heading wraps over two lines inside its bold
            out.append("**" + " ".join(words[:half]) + "\n" + " ".join(words[half:]) + "**")
        elif re.match(r"^[a-z]\)\s", s):
            out.append(f"*{s}*")
        elif ", ngày" in s:
            out.append(f"*{s}*")
        elif s.startswith(("CỘNG HÒA", "Số:", "Nơi nhận")):
            out.extend(["|", s])
        else:
            out.append(s)
    out.extend(["|", "## Văn bản liên quan", "Kế hoạch 88/KH-UBND năm 2026 do tỉnh Bình Định ban hành"])
    return "\n".join(out)


def test_markdown_copy_gives_same_metadata_and_sections():
    md = _as_markdown(PLAIN)
    a, b = extract_metadata(PLAIN), extract_metadata(md)
    fields = ("doc_type", "number", "issuer", "locality", "date", "signer", "title")
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert a.issuer == "Ủy ban nhân dân tỉnh Bình Định" and a.signer == "Phạm Anh Tuấn"
    la = [s.label for s in build_sections("p", PLAIN, find_headings(PLAIN))]
    lb = [s.label for s in build_sections("m", md, find_headings(md))]
    assert la == lb
    assert "II. NHIỆM VỤ, GIẢI PHÁP › 1. Truyền thông › a) Tổ chức truyền thông" in la
    assert "III. TỔ CHỨC THỰC HIỆN › 1. Sở Y tế" in la
    start, end = layout.document_span(md)
    assert md[start:].startswith("**ỦY BAN") and "Văn bản liên quan" not in md[start:end]


# ---- OCR repairs only on OCR text --------------------------------------------------------------

def test_clean_text_keeps_real_words():
    clean = "Phòng chống cúm gia cầm H5N1 tại xã Pú Nhi"
    assert search_tokens(clean)[-5:] == ["h5n1", "tai", "xa", "pu", "nhi"]
    assert repaired(clean, ocr=False) == fold(clean)
    assert "hsnl" in search_tokens(clean, ocr=True)  # the OCR-tolerant form, for matching OCR documents
    assert search_tokens("Ban Thuong vu Pang uy xa") == ["ban", "thuong", "vu", "dang", "uy", "xa"]
