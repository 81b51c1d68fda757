"""PDF (text layer and scans), Word and image files: text per page, page map, table rows, OCR decision, errors.

Every file is built here (fpdf2 for text-layer PDFs, PIL for scans, python-docx for Word); one test reads real
files of ``../shared/external/vn-docs`` (KEHOACH_VN_DOCS) and skips only when that folder is absent.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import docx
import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest import ocr
from ingest.filetype import sniff
from ingest.pages import CELL_SEP, Line
from ingest.pdf import PdfLimits, needs_ocr, read_pdf
from ingest.pipeline import load_document
from ingest.reader import discover, read_document, read_plan
from ingest.records import meta_from_json, meta_to_json
from ingest.textnorm import fold
from ingest.textquality import is_readable, is_syllable, measure

REPO = Path(__file__).resolve().parents[1]
VN_DOCS = Path(os.environ.get("KEHOACH_VN_DOCS", REPO.parent / "shared" / "external" / "vn-docs"))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core (make ocr)
needs_tesseract = pytest.mark.skipif(not ocr.is_available(), reason="tesseract-ocr-vie not installed: make ocr")

PAGE1 = ["KẾ HOẠCH", "Triển khai chăm sóc sức khỏe ban đầu năm 2026", "I. MỤC ĐÍCH, YÊU CẦU",
         "Nâng cao chất lượng khám bệnh, chữa bệnh tại trạm y tế xã."]
TABLE = [("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn"),
         ("1", "Rà soát danh mục thuốc", "Sở Y tế", "Quý II/2026"),
         ("2", "Tập huấn cán bộ y tế", "Trung tâm Y tế huyện", "Tháng 9/2026")]


def _text_pdf(path: Path, pages: int = 2) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format=(148, 210))
    pdf.add_font("dv", fname=str(FONT))
    pdf.set_font("dv", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "\n".join(PAGE1))
    if pages > 1:
        pdf.add_page()
        pdf.multi_cell(0, 6, "II. TỔ CHỨC THỰC HIỆN")
        with pdf.table(first_row_as_headings=False) as t:
            for r in TABLE:
                row = t.row()
                for c in r:
                    row.cell(c)
    pdf.output(str(path))
    return path


def _scan_image(lines: list[str], table: list[tuple[str, ...]] | None = None) -> Image.Image:
    """A small white page at 300 dpi with black text (and a ruled table), like a clean scan."""
    img = Image.new("L", (1500, 1000 if table else 520), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 40)
    y = 60
    for ln in lines:
        d.text((80, y), ln, font=font, fill=0)
        y += 75
    if table:
        xs, y0, h = [80, 200, 700, 1100, 1420], y + 20, 90
        for i in range(len(table) + 1):
            d.line([(xs[0], y0 + i * h), (xs[-1], y0 + i * h)], fill=0, width=4)
        for x in xs:
            d.line([(x, y0), (x, y0 + len(table) * h)], fill=0, width=4)
        small = ImageFont.truetype(str(FONT), 32)
        for i, row in enumerate(table):
            for j, cell in enumerate(row):
                d.text((xs[j] + 15, y0 + i * h + 25), cell, font=small, fill=0)
    return img


def _write_docx(path: Path) -> Path:
    d = docx.Document()
    head = d.add_table(rows=1, cols=2)  # a borderless header block: layout, not data
    head.cell(0, 0).text = "SỞ Y TẾ"
    head.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    d.add_paragraph("KẾ HOẠCH")
    d.add_paragraph("Phòng chống dịch bệnh năm 2026")
    t = d.add_table(rows=len(TABLE) + 1, cols=4)
    for i, row in enumerate(TABLE):
        for j, cell in enumerate(row):
            t.cell(i, j).text = cell
    merged = t.cell(len(TABLE), 0).merge(t.cell(len(TABLE), 3))  # a group heading across the table
    merged.text = "Nhóm nhiệm vụ khác"
    d.add_paragraph("Nơi nhận: như trên.")
    d.save(str(path))
    return path


# ---- file type by content ---------------------------------------------------------------------------------
def test_kind_is_judged_by_content_not_name(tmp_path):
    pdf = _text_pdf(tmp_path / "plan.pdf", pages=1)
    renamed = tmp_path / "plan.txt"
    renamed.write_bytes(pdf.read_bytes())
    assert sniff(renamed) == "pdf" and "Triển khai chăm sóc" in read_plan(renamed)
    word = _write_docx(tmp_path / "w.docx")
    assert sniff(word) == "docx"
    fake = tmp_path / "fake.pdf"
    fake.write_text("KẾ HOẠCH", "utf-8")
    with pytest.raises(ValueError, match="fake.pdf: named .pdf but its content is not a PDF"):
        read_plan(fake)


def test_discover_lists_pdf_docx_and_images(tmp_path):
    _text_pdf(tmp_path / "a.pdf", pages=1)
    _write_docx(tmp_path / "b.docx")
    (tmp_path / "c.png").write_bytes(b"")
    (tmp_path / "d.xls").write_bytes(b"")
    assert [p.name for p in discover([tmp_path])] == ["a.pdf", "b.docx", "c.png"]


# ---- PDF with a text layer ----------------------------------------------------------------------------------
def test_text_pdf_pages_lines_and_table_rows(tmp_path):
    got = read_document(_text_pdf(tmp_path / "plan.pdf"))
    assert got.kind == "pdf" and not got.ocr
    lines = got.text.split("\n")
    for expected in PAGE1:
        assert expected in lines
    for row in TABLE:
        assert CELL_SEP.join(row) in lines  # every row one line, its cells in order
    assert [p for _, p in got.pages] == [1, 2]
    second = got.text.index("II. TỔ CHỨC")
    assert got.pages[1][0] <= second and got.text[: got.pages[1][0]].rstrip().endswith(PAGE1[-1])
    # every line has a box on its page
    row_start = got.text.index("1 | Rà soát")
    box = next(b for b in got.boxes if b[0] == row_start)
    assert box[2] == 2 and 0 <= box[3] < box[5] <= 1 and 0 <= box[4] < box[6] <= 1


def test_document_meta_carries_pages_and_survives_json(tmp_path):
    doc = load_document(_text_pdf(tmp_path / "kh.pdf"))
    m = doc.meta
    assert m.page_of(0) == 1 and m.page_of(doc.text.index("Trung tâm Y tế huyện")) == 2
    assert m.ocr is False and m.pages and m.boxes
    a = doc.text.index("Tập huấn")
    assert [b[2] for b in m.boxes_in(a, a + 5)] == [2]
    back = meta_from_json(meta_to_json(m))
    assert back == m and back.page_of(len(doc.text) - 1) == 2
    # an older index's meta (no pages, no boxes) still loads; a plain text has no page
    old = {k: v for k, v in meta_to_json(m).items() if k not in ("pages", "boxes")}
    assert meta_from_json(old).page_of(10) is None


# ---- the per-page OCR decision ------------------------------------------------------------------------------
def test_text_layer_quality_measure():
    good = measure("Ủy ban nhân dân tỉnh ban hành Kế hoạch triển khai công tác y tế cơ sở năm 2026.")
    garbage = measure("CONG HOA xA HQI CilU NGHIA VIT NAM Doc lap Tu do Hanh phuc KInh gUi So Giao duc")
    assert is_readable(good) and good.marked_share > 0.7 and good.valid_share > 0.9
    assert not is_readable(garbage) and garbage.marked_share < 0.1
    assert is_syllable("Nghị") and is_syllable("khuyến") and not is_syllable("HQI") and not is_syllable("CilU")


def test_needs_ocr_by_measured_quality_not_by_having_text():
    body = [Line("Ủy ban nhân dân tỉnh ban hành Kế hoạch triển khai công tác y tế cơ sở năm 2026, "
                 "giao Sở Y tế chủ trì, phối hợp với các sở, ngành liên quan tổ chức thực hiện " * 3)]
    stamp = [Line("Người ký: Cổng Thông tin điện tử Chính phủ"), Line("Thời gian ký: 24.04.2026")]
    broken = [Line("CONG HOA xA HQI CilU NGHIA VIT NAM KInh gUi cac co quan don vi thuc hien")]
    assert needs_ocr(body, image_share=0.0) == ""
    assert needs_ocr([], 1.0) == "no text layer"
    assert "scrap" in needs_ocr(stamp, image_share=0.95)  # a stamp's text over a scanned page
    assert needs_ocr(stamp, image_share=0.0) == ""  # the same few words on a born-digital page are its text
    assert "not readable" in needs_ocr(broken, image_share=0.0)  # garbage even where no image shows it


# ---- scans ------------------------------------------------------------------------------------------------
@needs_tesseract
def test_scanned_pdf_is_ocrd_with_table_cells(tmp_path):
    img = _scan_image(["KẾ HOẠCH", "Phòng chống dịch bệnh năm 2026"], TABLE)
    path = tmp_path / "scan.pdf"
    img.convert("RGB").save(path, "PDF", resolution=300)
    got = read_document(path)
    assert got.kind == "pdf" and got.ocr_pages == (1,) and got.pages == ((0, 1),)
    folded = fold(got.text)
    assert "ke hoach" in folded and "phong chong dich benh" in folded
    rows = [ln for ln in got.text.split("\n") if CELL_SEP in ln]
    assert len(rows) == len(TABLE)
    cells = [r.split(CELL_SEP) for r in rows]
    assert all(len(c) == 4 for c in cells)
    assert fold(cells[1][2]) == "so y te" and "trung tam y te" in fold(cells[2][2])
    assert all(b[2] == 1 for b in got.boxes) and len(got.boxes) >= 2 + len(TABLE)
    doc = load_document(path)
    assert doc.meta.ocr is True and doc.meta.ocr_pages == (1,) and doc.meta.page_of(len(doc.text) - 1) == 1


@needs_tesseract
def test_rotated_scan_is_turned_upright():
    lines = ["Ủy ban nhân dân tỉnh ban hành kế hoạch", "triển khai công tác y tế cơ sở năm 2026",
             "giao Sở Y tế chủ trì tổ chức thực hiện", "các đơn vị báo cáo kết quả hằng quý"]
    page = ocr.ocr_page(_scan_image(lines).rotate(90, expand=True), 300)
    assert page.rotation in (90, 270)
    assert "y te co so" in fold(" ".join(ln.text for ln in page.lines))


def test_scan_without_ocr_installed_names_file_and_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "is_available", lambda langs=ocr.LANGS: False)
    path = tmp_path / "quet.pdf"
    Image.new("L", (300, 300), 255).convert("RGB").save(path, "PDF", resolution=100)
    with pytest.raises(ValueError, match=r"quet.pdf: .*scanned .*apt-get install tesseract-ocr tesseract-ocr-vie"):
        read_plan(path)


# ---- Word --------------------------------------------------------------------------------------------------
def test_docx_paragraphs_and_table_rows_in_body_order(tmp_path):
    text = read_plan(_write_docx(tmp_path / "kh.docx"))
    lines = text.split("\n")
    assert lines[:2] == ["SỞ Y TẾ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]  # layout table: its cells as lines
    i = lines.index(CELL_SEP.join(TABLE[0]))
    assert lines[i: i + 4] == [CELL_SEP.join(r) for r in TABLE] + ["Nhóm nhiệm vụ khác"]  # merged cell once
    assert lines.index("Phòng chống dịch bệnh năm 2026") < i < lines.index("Nơi nhận: như trên.")


# ---- bad files ---------------------------------------------------------------------------------------------
def _zero_page_pdf() -> bytes:
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 3\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % x for x in offsets))
    out.write(b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _encrypted_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Ke hoach")
    pdf.set_encryption(owner_password="owner", user_password="user")
    pdf.output(str(path))
    return path


def test_bad_files_name_the_file_and_the_fix(tmp_path):
    good = _text_pdf(tmp_path / "good.pdf")
    cases = {
        "hong.pdf": (good.read_bytes()[:300], r"hong.pdf: not a readable PDF"),
        "rong.pdf": (_zero_page_pdf(), r"rong.pdf: the PDF has no pages"),
        "hong.docx": (b"PK\x03\x04broken", r"hong.docx: a broken ZIP"),
        "cu.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, r"cu.doc: a legacy Word .doc"),
    }
    for name, (data, msg) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=msg):
            read_plan(tmp_path / name)
    sheet = tmp_path / "bang.docx"
    with zipfile.ZipFile(sheet, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ValueError, match="bang.docx: a ZIP package that is not a Word document"):
        read_plan(sheet)
    with pytest.raises(ValueError, match="enc.pdf: the PDF is encrypted .*remove the password"):
        read_plan(_encrypted_pdf(tmp_path / "enc.pdf"))
    with pytest.raises(ValueError, match="good.pdf: 2 pages is over the 1-page limit"):
        read_pdf(good, PdfLimits(max_pages=1))
    with pytest.raises(ValueError, match="good.pdf: .* MB is over the 0 MB limit"):
        read_pdf(good, PdfLimits(max_bytes=0))


def test_cli_refuses_bad_pdf_with_message(tmp_path, capsys):
    from app.cli import main

    (tmp_path / "hong.pdf").write_bytes(b"%PDF-1.7\n garbage")
    rc = main(["ingest", "--index-dir", str(tmp_path / "idx"), str(tmp_path / "hong.pdf")])
    assert rc == 2 and "hong.pdf: not a readable PDF" in capsys.readouterr().err


# ---- real files ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(not VN_DOCS.is_dir(), reason=f"{VN_DOCS} absent (set KEHOACH_VN_DOCS)")
def test_real_documents_tables_and_ocr_decision():
    import pdfplumber

    from ingest.pdf import _image_share, layer_lines

    text = read_plan(VN_DOCS / "docx" / "byt_1867-QD-BYT_2026_kehoach-csdl-duoc.docx")
    rows = [ln.split(CELL_SEP) for ln in text.split("\n") if CELL_SEP in ln]
    head = next(i for i, r in enumerate(rows) if "Đơn vị chủ trì" in r)
    assert rows[head][3:5] == ["Đơn vị chủ trì", "Đơn vị phối hợp"] and rows[head][6].startswith("Thời gian")
    body = [r for r in rows[head + 1:] if len(r) == len(rows[head])]
    assert len(body) >= 14 and all(r[3] and r[6] for r in body)  # every task row has its lead and its deadline
    with pdfplumber.open(VN_DOCS / "pdf-scan" / "ubnd-danang_5710-UBND-SGDDT_2023_ocr-layer-rac.pdf") as pdf:
        page = pdf.pages[0]
        lines = layer_lines(page)
        assert len("".join(ln.text for ln in lines)) > 1000  # a big hidden layer …
        assert "not readable" in needs_ocr(lines, _image_share(page))  # … of broken OCR: the page is OCR'd
    with pdfplumber.open(VN_DOCS / "pdf-text" / "cp_55-2023-ND-CP_tro-cap-nguoi-co-cong.pdf") as pdf:
        page = pdf.pages[0]
        assert needs_ocr(layer_lines(page), _image_share(page)) == ""  # born-digital: the layer is kept


def test_ocr_eval_scores_and_sample_pairing(tmp_path):
    from evals.ocr import edit_distance, samples, scores

    assert edit_distance("kế hoạch", "ke hoach") == 2 and edit_distance([], ["a"]) == 1
    s = scores("Kế  hoạch\nsố 12", "Kế hoạch số 12")  # whitespace runs do not count
    assert s == {"cer": 0.0, "wer": 0.0}
    assert scores("Kế hoạch", "Kế hoạch số 12")["wer"] == 0.5
    (tmp_path / "a.gt.txt").write_text("x", "utf-8")
    Image.new("L", (10, 10), 255).save(tmp_path / "a_p1.png")
    (tmp_path / "b.gt.txt").write_text("y", "utf-8")  # no image: left out
    assert [sid for sid, _, _ in samples(tmp_path)] == ["a"]


def test_blank_ocr_page_does_not_mark_the_document_ocr():
    from ingest.pages import PageText, from_pages

    pages = [PageText(1, [Line("Kế hoạch số 12/KH-UBND")]), PageText(2, [], "ocr"),
             PageText(3, [Line("Nơi nhận")], "ocr")]
    got = from_pages(pages, "pdf")
    assert got.ocr_pages == (3,) and got.pages == ((0, 1), (24, 3)) and got.text.endswith("\n\nNơi nhận")
