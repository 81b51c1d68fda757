"""Gold question set for kehoach-qa: loader and validator.

The gold file (``evals/gold/gold.jsonl``) holds one JSON object per line with the
fields listed in :data:`FIELDS`.  Every answerable item carries evidence strings
that must be exact substrings of its source plan(s) in ``corpus/`` once every run of
whitespace is collapsed to a single space (OCR line breaks fall anywhere).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATEGORIES: tuple[str, ...] = (
    "lead_agency",
    "coordination",
    "deadline",
    "target",
    "doc_meta",
    "content",
    "cross_doc",
    "unanswerable",
)

UNANSWERABLE = "unanswerable"

FIELDS: tuple[str, ...] = (
    "id",
    "question",
    "category",
    "doc_files",
    "doc_numbers",
    "answer",
    "must_include",
    "evidence",
    "accented",
)

# Soft limits from the gold-writing guide; reported by validate_gold.
MAX_MUST_INCLUDE = 3
MAX_EVIDENCE = 2
EVIDENCE_MIN_CHARS = 20
EVIDENCE_MAX_CHARS = 120

_WS_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    category: str
    doc_files: tuple[str, ...]
    doc_numbers: tuple[str, ...]
    answer: str
    must_include: tuple[str, ...]
    evidence: tuple[str, ...]
    accented: bool

    @property
    def answerable(self) -> bool:
        return self.category != UNANSWERABLE

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "category": self.category,
            "doc_files": list(self.doc_files),
            "doc_numbers": list(self.doc_numbers),
            "answer": self.answer,
            "must_include": list(self.must_include),
            "evidence": list(self.evidence),
            "accented": self.accented,
        }


def collapse_ws(text: str) -> str:
    """Replace every run of whitespace by one space and strip the ends."""
    return _WS_RE.sub(" ", text).strip()


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _str_list(value: Any, field: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: field {field!r} must be a list of strings")
    return tuple(value)


def _item_from_obj(obj: Any, where: str) -> GoldItem:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [f for f in FIELDS if f not in obj]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    extra = sorted(set(obj) - set(FIELDS))
    if extra:
        raise ValueError(f"{where}: unknown field(s) {', '.join(extra)}")
    for field in ("id", "question", "category", "answer"):
        if not isinstance(obj[field], str) or not obj[field].strip():
            raise ValueError(f"{where}: field {field!r} must be a non-empty string")
    if obj["category"] not in CATEGORIES:
        raise ValueError(f"{where}: unknown category {obj['category']!r}")
    if not isinstance(obj["accented"], bool):
        raise ValueError(f"{where}: field 'accented' must be a boolean")
    return GoldItem(
        id=obj["id"],
        question=obj["question"],
        category=obj["category"],
        doc_files=_str_list(obj["doc_files"], "doc_files", where),
        doc_numbers=_str_list(obj["doc_numbers"], "doc_numbers", where),
        answer=obj["answer"],
        must_include=_str_list(obj["must_include"], "must_include", where),
        evidence=_str_list(obj["evidence"], "evidence", where),
        accented=obj["accented"],
    )


def load_gold(path: Path) -> list[GoldItem]:
    """Load a gold JSONL file.

    Raises ``ValueError`` naming the 1-based line number on invalid JSON, a missing
    or unknown field, a wrongly typed field, an unknown category or a duplicate id.
    Blank lines are skipped.
    """
    path = Path(path)
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: invalid JSON: {exc.msg}") from exc
            item = _item_from_obj(obj, where)
            if item.id in seen:
                raise ValueError(f"{where}: duplicate id {item.id!r} (first on line {seen[item.id]})")
            seen[item.id] = lineno
            items.append(item)
    return items


class _Corpus:
    """Lazy cache of corpus files (NFC text and its whitespace-collapsed form)."""

    def __init__(self, corpus_dir: Path) -> None:
        self.dir = Path(corpus_dir)
        self._raw: dict[str, str | None] = {}
        self._flat: dict[str, str] = {}

    def raw(self, name: str) -> str | None:
        if name not in self._raw:
            path = self.dir / name
            if Path(name).name != name or not path.is_file():
                self._raw[name] = None
            else:
                self._raw[name] = _nfc(path.read_text(encoding="utf-8"))
        return self._raw[name]

    def flat(self, name: str) -> str | None:
        raw = self.raw(name)
        if raw is None:
            return None
        if name not in self._flat:
            self._flat[name] = collapse_ws(raw)
        return self._flat[name]


def _short(text: str, limit: int = 60) -> str:
    text = collapse_ws(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_gold(items: Iterable[GoldItem], corpus_dir: Path) -> list[str]:
    """Return human-readable problems with ``items`` (an empty list means valid)."""
    corpus = _Corpus(Path(corpus_dir))
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_questions: dict[str, str] = {}
    for item in items:
        p = f"{item.id}:"
        if item.id in seen_ids:
            problems.append(f"{p} duplicate id")
        seen_ids.add(item.id)
        if item.category not in CATEGORIES:
            problems.append(f"{p} unknown category {item.category!r}")
        qkey = collapse_ws(item.question).lower()
        if qkey in seen_questions:
            problems.append(f"{p} same question as {seen_questions[qkey]}")
        else:
            seen_questions[qkey] = item.id
        if len(set(item.doc_files)) != len(item.doc_files):
            problems.append(f"{p} repeated doc file")
        problems += [f"{p} unknown doc file {name!r}" for name in item.doc_files if corpus.raw(name) is None]
        problems += [f"{p} {x}" for x in (_answerable_problems(item, corpus) if item.answerable
                                          else _unanswerable_problems(item))]
    return problems


def _unanswerable_problems(item: GoldItem) -> list[str]:
    fields = {"doc_files": item.doc_files, "doc_numbers": item.doc_numbers, "evidence": item.evidence,
              "must_include": item.must_include}
    return [f"unanswerable item {'lists' if k.startswith('doc') else 'has'} {k}" for k, v in fields.items() if v]


def _answerable_problems(item: GoldItem, corpus: _Corpus) -> list[str]:
    problems: list[str] = []
    if not item.doc_files:
        problems.append("answerable item without doc_files")
    if item.category == "cross_doc" and len(item.doc_files) < 2:
        problems.append("cross_doc item should cite at least two doc files")
    if not item.must_include:
        problems.append("answerable item without must_include")
    elif len(item.must_include) > MAX_MUST_INCLUDE:
        problems.append(f"more than {MAX_MUST_INCLUDE} must_include strings")
    problems += ["empty must_include string" for key in item.must_include if not key.strip()]
    if not item.evidence:
        return problems + ["answerable item without evidence"]
    if len(item.evidence) > MAX_EVIDENCE:
        problems.append(f"more than {MAX_EVIDENCE} evidence strings")
    known = [(n, t) for n, t in ((n, corpus.flat(n)) for n in item.doc_files) if t is not None]
    for k, ev in enumerate(item.evidence, start=1):
        problems += _evidence_problems(k, ev, known)
    return problems


def _evidence_problems(k: int, ev: str, known: list[tuple[str, str]]) -> list[str]:
    needle = collapse_ws(_nfc(ev))
    if not needle:
        return [f"evidence #{k} is empty"]
    out = []
    if not EVIDENCE_MIN_CHARS <= len(needle) <= EVIDENCE_MAX_CHARS:
        out.append(f"evidence #{k} has {len(needle)} chars (expected {EVIDENCE_MIN_CHARS}-{EVIDENCE_MAX_CHARS})")
    if known and not any(needle in flat for _, flat in known):
        out.append(f"evidence #{k} not found in {', '.join(n for n, _ in known)}: {_short(ev)!r}")
    return out


def _evidence_pattern(evidence: str) -> re.Pattern[str] | None:
    tokens = _nfc(evidence).split()
    if not tokens:
        return None
    return re.compile(r"\s+".join(re.escape(t) for t in tokens))


def find_evidence_spans(item: GoldItem, corpus_dir: Path) -> list[tuple[str, int, int]]:
    """Locate each evidence string of ``item`` in its doc files.

    Returns ``(file, start, end)`` character offsets into the original (NFC) file
    text, one per evidence string that could be found (the first match, trying the
    item's doc files in order).  The search tolerates any whitespace difference, so
    ``collapse_ws(text[start:end]) == collapse_ws(evidence)``.  Evidence strings that
    are not found are left out; :func:`validate_gold` reports them.
    """
    corpus = _Corpus(Path(corpus_dir))
    spans: list[tuple[str, int, int]] = []
    for ev in item.evidence:
        pattern = _evidence_pattern(ev)
        if pattern is None:
            continue
        for name in item.doc_files:
            text = corpus.raw(name)
            if text is None:
                continue
            match = pattern.search(text)
            if match:
                spans.append((name, match.start(), match.end()))
                break
    return spans


def dump_gold(items: Sequence[GoldItem], path: Path) -> None:
    """Write items as JSONL (UTF-8, one object per line, non-ASCII kept)."""
    with Path(path).open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
