"""Tests for the gold question set (evals/gold/gold.jsonl) and its validator."""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from evals.gold import (
    CATEGORIES,
    GoldItem,
    collapse_ws,
    find_evidence_spans,
    load_gold,
    validate_gold,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT / "corpus"
GOLD_PATH = REPO_ROOT / "evals" / "gold" / "gold.jsonl"

DOC_NUMBERS = {
    "000_9471cb16a5ff28e3.txt": "10-CTr/ĐU",
    "001_bcf331abe4d07966.txt": None,
    "002_2e9b76a3db659b23.txt": "07-KH/TU",
    "003_d8f725de1b77ed97.txt": "12-CTr/ĐU",
    "004_e69ace08222b1b54.txt": None,
}
OCR_FILES = ("000_9471cb16a5ff28e3.txt", "002_2e9b76a3db659b23.txt")

CATEGORY_MINIMA = {
    "lead_agency": 25,
    "coordination": 10,
    "deadline": 10,
    "target": 20,
    "doc_meta": 10,
    "content": 15,
    "cross_doc": 8,
    "unanswerable": 14,
}


def _has_diacritics(text: str) -> bool:
    for ch in text:
        if ch in "đĐ":
            return True
        if any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", ch)):
            return True
    return False


@pytest.fixture(scope="module")
def items() -> list[GoldItem]:
    return load_gold(GOLD_PATH)


def _valid_obj(**overrides: object) -> dict[str, object]:
    obj: dict[str, object] = {
        "id": "t001",
        "question": "Ai chủ trì?",
        "category": "lead_agency",
        "doc_files": ["003_d8f725de1b77ed97.txt"],
        "doc_numbers": ["12-CTr/ĐU"],
        "answer": "Ban Xây dựng Đảng.",
        "must_include": ["Ban Xây dựng Đảng"],
        "evidence": ["Ban Xây dựng Đảng tham mưu Ban Thường vụ Đảng ủy"],
        "accented": True,
    }
    obj.update(overrides)
    return obj


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- shipped gold file


def test_gold_file_is_plain_utf8_jsonl() -> None:
    for lineno, line in enumerate(GOLD_PATH.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"blank line {lineno}"
        assert "\\u" not in line, f"line {lineno} is ASCII-escaped"
        assert isinstance(json.loads(line), dict)


def test_gold_loads_and_validates(items: list[GoldItem]) -> None:
    assert len(items) >= 130
    assert validate_gold(items, CORPUS_DIR) == []


def test_ids_are_unique_and_well_formed(items: list[GoldItem]) -> None:
    ids = [it.id for it in items]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"q\d{3}", i) for i in ids)


def test_category_minima(items: list[GoldItem]) -> None:
    counts = Counter(it.category for it in items)
    assert set(counts) <= set(CATEGORIES)
    for category, minimum in CATEGORY_MINIMA.items():
        assert counts[category] >= minimum, (category, counts[category])


def test_every_corpus_file_is_covered(items: list[GoldItem]) -> None:
    covered = Counter(name for it in items for name in it.doc_files)
    corpus_files = {p.name for p in CORPUS_DIR.glob("*.txt")}
    assert set(DOC_NUMBERS) <= corpus_files
    for name in DOC_NUMBERS:
        assert covered[name] >= 10, (name, covered[name])
    for name in OCR_FILES:
        assert covered[name] >= 25, (name, covered[name])


def test_doc_numbers_match_doc_files(items: list[GoldItem]) -> None:
    for it in items:
        expected = [DOC_NUMBERS[f] for f in it.doc_files if DOC_NUMBERS.get(f)]
        assert list(it.doc_numbers) == expected, it.id


def test_accent_free_share(items: list[GoldItem]) -> None:
    plain = [it for it in items if not it.accented]
    share = len(plain) / len(items)
    assert 0.15 <= share <= 0.25, share


def test_accented_flag_matches_question(items: list[GoldItem]) -> None:
    for it in items:
        assert it.accented == _has_diacritics(it.question), it.id


def test_answerable_items_are_complete(items: list[GoldItem]) -> None:
    for it in items:
        if it.category == "unanswerable":
            assert not (it.doc_files or it.doc_numbers or it.must_include or it.evidence), it.id
        else:
            assert it.doc_files and it.evidence and it.must_include, it.id
            assert 1 <= len(it.must_include) <= 3, it.id
            assert 1 <= len(it.evidence) <= 2, it.id
            assert _has_diacritics(it.answer), it.id
        if it.category == "cross_doc":
            assert len(it.doc_files) >= 2, it.id


def test_evidence_spans_match_evidence(items: list[GoldItem]) -> None:
    texts = {
        p.name: unicodedata.normalize("NFC", p.read_text(encoding="utf-8")) for p in CORPUS_DIR.glob("*.txt")
    }
    for it in items:
        spans = find_evidence_spans(it, CORPUS_DIR)
        assert len(spans) == len(it.evidence), it.id
        for (name, start, end), ev in zip(spans, it.evidence, strict=True):
            assert name in it.doc_files
            assert 0 <= start < end <= len(texts[name])
            assert collapse_ws(texts[name][start:end]) == collapse_ws(ev), it.id


# ---------------------------------------------------------------- validator behaviour


def test_collapse_ws() -> None:
    assert collapse_ws("  a \n\n b\tc  ") == "a b c"
    assert collapse_ws("") == ""


def test_validate_reports_missing_evidence(items: list[GoldItem]) -> None:
    base = next(it for it in items if it.category == "lead_agency")
    bad = dataclasses.replace(base, evidence=("Câu này hoàn toàn không có trong văn bản nào cả",))
    problems = validate_gold([bad], CORPUS_DIR)
    assert len(problems) == 1
    assert base.id in problems[0] and "not found" in problems[0]


def test_validate_reports_evidence_from_wrong_file(items: list[GoldItem]) -> None:
    base = next(it for it in items if it.doc_files == ("003_d8f725de1b77ed97.txt",))
    moved = dataclasses.replace(base, doc_files=("004_e69ace08222b1b54.txt",), doc_numbers=())
    assert any("not found" in p for p in validate_gold([moved], CORPUS_DIR))


def test_validate_reports_structural_problems(items: list[GoldItem]) -> None:
    base = next(it for it in items if it.category == "target")
    unanswerable = next(it for it in items if it.category == "unanswerable")
    cases = {
        "unknown doc file": dataclasses.replace(base, doc_files=("999_missing.txt",)),
        "without evidence": dataclasses.replace(base, evidence=()),
        "without must_include": dataclasses.replace(base, must_include=()),
        "unanswerable item lists doc_files": dataclasses.replace(unanswerable, doc_files=base.doc_files),
        "unanswerable item has evidence": dataclasses.replace(unanswerable, evidence=base.evidence),
    }
    for fragment, item in cases.items():
        problems = validate_gold([item], CORPUS_DIR)
        assert any(fragment in p for p in problems), (fragment, problems)


def test_validate_evidence_tolerates_line_breaks() -> None:
    obj = _valid_obj(evidence=["Ban   Xây dựng\nĐảng tham mưu Ban Thường vụ Đảng ủy"])
    item = GoldItem(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in obj.items()}  # type: ignore[arg-type]
    )
    assert validate_gold([item], CORPUS_DIR) == []
    spans = find_evidence_spans(item, CORPUS_DIR)
    assert len(spans) == 1 and spans[0][0] == "003_d8f725de1b77ed97.txt"
    text = (CORPUS_DIR / spans[0][0]).read_text(encoding="utf-8")
    assert text[spans[0][1] : spans[0][2]].startswith("Ban Xây dựng Đảng tham mưu")


# ---------------------------------------------------------------- loader errors


def test_load_valid_file(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "g.jsonl", [json.dumps(_valid_obj(), ensure_ascii=False), ""])
    loaded = load_gold(path)
    assert len(loaded) == 1
    assert loaded[0].doc_files == ("003_d8f725de1b77ed97.txt",)
    assert isinstance(loaded[0].evidence, tuple)


def test_malformed_line_raises_with_line_number(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "g.jsonl",
        [json.dumps(_valid_obj(), ensure_ascii=False), '{"id": "t002", "question": '],
    )
    with pytest.raises(ValueError, match=r"line 2"):
        load_gold(path)


@pytest.mark.parametrize(
    ("obj", "pattern"),
    [
        ({k: v for k, v in _valid_obj().items() if k != "answer"}, r"line 2.*missing field.*answer"),
        (_valid_obj(category="budget"), r"line 2.*unknown category"),
        (_valid_obj(accented="yes"), r"line 2.*accented"),
        (_valid_obj(evidence="not a list"), r"line 2.*evidence"),
        (_valid_obj(extra=1), r"line 2.*unknown field"),
    ],
)
def test_bad_records_raise(tmp_path: Path, obj: dict[str, object], pattern: str) -> None:
    first = json.dumps(_valid_obj(id="t000"), ensure_ascii=False)
    path = _write_lines(tmp_path / "g.jsonl", [first, json.dumps(obj, ensure_ascii=False)])
    with pytest.raises(ValueError, match=pattern):
        load_gold(path)


def test_duplicate_id_raises(tmp_path: Path) -> None:
    line = json.dumps(_valid_obj(), ensure_ascii=False)
    path = _write_lines(tmp_path / "g.jsonl", [line, line])
    with pytest.raises(ValueError, match=r"line 2.*duplicate id"):
        load_gold(path)
