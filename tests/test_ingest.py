"""Section parsing, metadata and chunking on each seed plan (clean and OCR), and bad input files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import ChunkSettings, chunk_document
from ingest.metadata import extract_metadata
from ingest.pipeline import ingest_paths, load_document
from ingest.reader import discover, read_plan
from ingest.textnorm import fold, is_ocr_text, nfc, repair_token, search_tokens

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = {
    "000": "000_9471cb16a5ff28e3.txt",
    "001": "001_bcf331abe4d07966.txt",
    "002": "002_2e9b76a3db659b23.txt",
    "003": "003_d8f725de1b77ed97.txt",
    "004": "004_e69ace08222b1b54.txt",
}


@pytest.fixture(scope="module")
def docs():
    return {k: load_document(CORPUS / f) for k, f in FILES.items()}


def test_fold_is_length_preserving_and_strips_marks():
    s = "Đảng ủy xã Định Hóa — Sở Y tế"
    assert len(fold(s)) == len(s)
    assert fold(s) == "dang uy xa dinh hoa — so y te"


def test_nfd_and_accent_free_questions_fold_alike():
    nfd = "Cơ quan nào chủ trì".encode().decode()
    import unicodedata

    decomposed = unicodedata.normalize("NFD", nfd)
    assert search_tokens(decomposed) == search_tokens(nfd) == search_tokens("co quan nao chu tri")


@pytest.mark.parametrize("ocr,clean", [("pang", "dang"), ("s6", "so"), ("x4", "xa"), ("1am", "lam"), ("72", "72"),
                                       ("phong", "phong")])
def test_repair_token_ocr_confusions(ocr, clean):
    assert repair_token(ocr) == clean


@pytest.mark.parametrize(
    "key,number,doc_type,issuer,date",
    [
        ("000", "10-CTr/ĐU", "Chương trình hành động", "Ban Thường vụ Đảng ủy xã Hà Đông", "10/11/2025"),
        ("001", None, "Kế hoạch", "Ủy ban nhân dân xã Nam Thanh Miện", "2025"),
        ("002", "07-KH/TU", "Kế hoạch", "Ban Thường vụ Tỉnh ủy Điện Biên", "21/11/2025"),
        ("003", "12-CTr/ĐU", "Chương trình hành động", "Đảng ủy xã Định Hóa", "24/11/2025"),
        ("004", None, "Kế hoạch", "Ủy ban nhân dân xã Mường La", "01/2026"),
    ],
)
def test_metadata_of_each_seed_plan(docs, key, number, doc_type, issuer, date):
    m = docs[key].meta
    assert (m.number, m.doc_type, m.issuer, m.date) == (number, doc_type, issuer, date)


def test_ocr_number_keeps_what_was_printed(docs):
    assert docs["000"].meta.number_raw == "S610 - CTr/TU"
    assert docs["002"].meta.number_raw == "$6 07 -KH/TU"
    assert docs["002"].meta.date_iso == "2025-11-21"
    assert docs["001"].meta.date_iso is None  # day and month left blank


def test_ocr_detection(docs):
    assert [k for k, d in docs.items() if d.meta.ocr] == ["000", "002"]
    assert not is_ocr_text("Đảng ủy xã Định Hóa ban hành Chương trình hành động thực hiện như sau")


def test_signers(docs):
    assert docs["003"].meta.signer == "Nguyễn Minh Tú"
    assert docs["004"].meta.signer == "Trần Hải Sơn"
    assert docs["001"].meta.signer == "Vũ Văn Nguyễn"


def test_blank_number_header_from_inline_metadata():
    text = ("UBND XÃ A\nSố:     /KH-UBND\nKẾ HOẠCH\nThực hiện Nghị quyết\n"
            "UBND xã Mường La ban hành Kế hoạch như sau:\nI. MỤC TIÊU\n")
    assert extract_metadata(text).number is None


def _labels(doc):
    return [s.label for s in doc.sections]


def test_sections_clean_plan(docs):
    labels = _labels(docs["001"])
    assert labels[0] == "Phần mở đầu"
    assert "IV. TỔ CHỨC THỰC HIỆN › 2" in labels
    assert "II. MỤC TIÊU › 1. Mục tiêu đến năm 2030" in labels
    assert "PHỤ LỤC 1" in labels and "Nơi nhận" in labels


def test_sections_ocr_plans_get_canonical_part_titles(docs):
    labels000 = _labels(docs["000"])
    assert "III. NHIỆM VỤ, GIẢI PHÁP" in labels000  # printed "II1. NHIEM VU, GIAI PHAP"
    assert "IV. TỔ CHỨC THỰC HIỆN › 4" in labels000
    assigned = [lb for lb in labels000 if lb.endswith("Phân công thực hiện")]
    assert len(assigned) == 6  # one "* Phân công thực hiện" per subsection of III
    labels002 = _labels(docs["002"])
    assert "IV. TỔ CHỨC THỰC HIỆN" in labels002  # printed "IV- TO CHUC THU'C HIEN"
    assert any(lb.startswith("III. NHIỆM VỤ VÀ GIẢI PHÁP › 1.") and "› 1.2." in lb for lb in labels002)


def test_appendix_parts_nest_under_appendix(docs):
    labels = _labels(docs["004"])
    assert "PHỤ LỤC 02" in labels
    parts = [lb for lb in labels if lb.startswith("PHỤ LỤC 02 › ")]
    assert len(parts) == 6  # 1. + II..VI; table rows "6.1" are not headings
    assert not any("6. 1" in lb for lb in labels)


def test_chunks_are_exact_slices_and_bounded(docs):
    cs = ChunkSettings()
    for d in docs.values():
        chunks = chunk_document(d, cs)
        assert chunks, d.source_file
        for c in chunks:
            assert d.text[c.start:c.end] == c.text
            assert len(c.text) <= cs.chunk_size
            assert c.chunk_id.startswith(d.doc_id + "#")


def test_long_sections_split_at_word_boundaries(docs):
    d = docs["003"]
    for c in chunk_document(d, ChunkSettings(chunk_size=300, chunk_overlap=50)):
        if c.start > 0:
            assert not (d.text[c.start - 1].isalnum() and c.text[0].isalnum()), c.chunk_id
        if c.end < len(d.text):
            assert not (d.text[c.end].isalnum() and c.text[-1].isalnum()), c.chunk_id


def test_ingest_folder_ids_are_deterministic():
    docs1, chunks1 = ingest_paths([CORPUS], progress=False)
    docs2, chunks2 = ingest_paths([CORPUS], progress=False)
    assert [c.chunk_id for c in chunks1] == [c.chunk_id for c in chunks2]
    assert len(docs1) == 5


def test_nfc_on_read(tmp_path):
    import unicodedata

    p = tmp_path / "nfd.txt"
    p.write_text(unicodedata.normalize("NFD", "KẾ HOẠCH\nĐảng ủy xã Định Hóa"), "utf-8")
    assert read_plan(p) == nfc("KẾ HOẠCH\nĐảng ủy xã Định Hóa")


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("empty.txt", b"   \n", "empty"),
        ("binary.txt", b"\x00\x01\x02abc", "binary"),
        ("latin1.txt", "Kế hoạch".encode("cp1258", errors="ignore") + b"\xff\xfe\xfa", "UTF-8"),
        ("plan.pdf", b"%PDF-1.4", "PDF"),
        ("plan.xls", b"abc", "unsupported"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, name, data, message):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        read_plan(p)


def test_discover_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        discover([tmp_path / "missing"])
    with pytest.raises(ValueError, match="no plan files"):
        discover([tmp_path])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text("KẾ HOẠCH", "utf-8")
    (tmp_path / "b" / "x.txt").write_text("KẾ HOẠCH", "utf-8")
    with pytest.raises(ValueError, match="share the name"):
        discover([tmp_path / "a", tmp_path / "b"])
