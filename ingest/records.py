"""Typed records that flow from ingest to index, retriever and app, and the one way a plan is named."""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.heading import is_named_act


@dataclass(frozen=True)
class DocMeta:
    """Identity of one plan, as printed in its header (repaired where OCR broke it)."""

    number: str | None  # "07-KH/TU"; None where the plan leaves it blank
    number_raw: str | None  # the header text it was read from ("$6 07 -KH/TU")
    doc_type: str | None  # the type heading: "Kế hoạch", "Quyết định", "Chương trình hành động", …
    issuer: str | None  # "Ban Thường vụ Tỉnh ủy Điện Biên"
    locality: str | None  # "tỉnh Điện Biên", "xã Mường La"
    date: str | None  # as far as printed: "21/11/2025", "01/2026", "2025"
    date_iso: str | None  # "2025-11-21" only when day, month and year are all printed
    signer: str | None
    title: str | None  # the line(s) under the type heading
    ocr: bool  # True when the text is OCR output with broken diacritics
    issued_type: str | None = None  # a Quyết định ban hành/phê duyệt Kế hoạch: "Kế hoạch"
    # Where each printed page starts in ``Document.text``: ((start_offset, page_no), ...), sorted by offset.
    # Empty for plain-text plans (no pages).  Read it with :meth:`page_of`.
    pages: tuple[tuple[int, int], ...] = ()
    # Line boxes of OCR'd or PDF pages: ((start, end, page_no, x0, y0, x1, y1), ...) with the box in fractions
    # of the page's width and height (0..1, origin top left), so a citation can point at its place on the page.
    boxes: tuple[tuple[int, int, int, float, float, float, float], ...] = ()
    ocr_pages: tuple[int, ...] = ()  # the pages whose text is OCR output (scans, or an unreadable text layer)

    @property
    def types(self) -> tuple[str, ...]:
        """Every type a question may call the document by: ("Quyết định", "Kế hoạch")."""
        return tuple(t for t in (self.doc_type, self.issued_type) if t)

    @property
    def label(self) -> str:
        """ "Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên" (see :func:`plan_label`); a statute article's
        heading line ("Luật Cư trú – Điều 32")."""
        if is_named_act(self.doc_type) and self.title:
            return self.title
        return plan_label(self.doc_type, self.number, self.issuer)

    def page_of(self, offset: int) -> int | None:
        """The page holding ``offset`` of the document text; None for a text without pages."""
        i = bisect.bisect_right(self.pages, (offset, float("inf"))) - 1
        return self.pages[i][1] if i >= 0 else None

    def boxes_in(self, start: int, end: int) -> list[tuple[int, int, int, float, float, float, float]]:
        """The line boxes that overlap the span ``[start, end)`` of the document text."""
        return [b for b in self.boxes if b[0] < end and b[1] > start]


@dataclass(frozen=True)
class Section:
    """One heading of a plan and the span of text it governs (heading line included)."""

    doc_id: str
    path: tuple[str, ...]  # ("IV. TỔ CHỨC THỰC HIỆN", "2")
    title: str  # heading text as printed (first line, stripped)
    kind: str  # preamble | part | item | subitem | assignment | appendix | closing
    start: int
    end: int

    @property
    def label(self) -> str:
        return " › ".join(self.path)


@dataclass(frozen=True)
class Document:
    doc_id: str
    source_file: str  # file name only
    text: str  # the full NFC text, the reference for every offset
    meta: DocMeta
    sections: tuple[Section, ...] = field(default_factory=tuple)
    sha256: str = ""

    def section_path_at(self, offset: int) -> tuple[str, ...]:
        """Path of the innermost section holding character ``offset`` (``()`` outside every section)."""
        holding = [s for s in self.sections if s.start <= offset < s.end]
        return max(holding, key=lambda s: (len(s.path), s.start)).path if holding else ()


@dataclass(frozen=True)
class Chunk:
    """A passage to index: ``text`` is exactly ``document.text[start:end]``."""

    chunk_id: str  # f"{doc_id}#{n:04d}"
    doc_id: str
    text: str
    start: int
    end: int
    section_path: tuple[str, ...]
    section_kind: str

    @property
    def section(self) -> str:
        return " › ".join(self.section_path)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["section_path"] = list(self.section_path)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Chunk:
        return cls(
            chunk_id=d["chunk_id"], doc_id=d["doc_id"], text=d["text"], start=int(d["start"]),
            end=int(d["end"]), section_path=tuple(d["section_path"]), section_kind=d["section_kind"],
        )


def meta_to_json(meta: DocMeta) -> dict[str, Any]:
    return asdict(meta)


def meta_from_json(d: dict[str, Any]) -> DocMeta:
    d = dict(d)
    d["pages"] = tuple(tuple(p) for p in d.get("pages", ()))
    d["boxes"] = tuple(tuple(b) for b in d.get("boxes", ()))
    d["ocr_pages"] = tuple(d.get("ocr_pages", ()))
    return DocMeta(**d)


# ---- naming a plan (the one implementation: API, UI, CLI, briefing and answers all call these) -------------
NO_NUMBER = "(chưa ghi số)"  # shown where a plan is printed without a number
UNKNOWN_TYPE = "Văn bản"  # shown where the type heading could not be read


def plan_label(doc_type: str | None, number: str | None, issuer: str | None = None) -> str:
    """ "Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên"; "Kế hoạch (chưa ghi số) của …" without a
    number; "Văn bản số …" without a type; no "của …" without an issuer (never prints "None")."""
    head = doc_type or UNKNOWN_TYPE
    if number:
        head += f" số {number}"
    elif not is_named_act(doc_type):  # a named act ("Luật Cư trú") is known by its name, not by a number
        head += f" {NO_NUMBER}"
    return head + (f" của {issuer}" if issuer else "")


def date_phrase(day: str | None) -> str | None:
    """ "21/11/2025" → "ngày 21/11/2025"; "01/2026" → "tháng 01/2026"; "2025" → "năm 2025"; None → None."""
    if not day:
        return None
    return f"{('năm', 'tháng', 'ngày')[min(day.count('/'), 2)]} {day}"


def plan_reference(doc_type: str | None, number: str | None, issuer: str | None, day: str | None = None,
                   section: str | None = None) -> str:
    """ "Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên, ngày 21/11/2025, mục IV. … › 4"."""
    parts = [plan_label(doc_type, number, issuer), date_phrase(day), f"mục {section}" if section else None]
    return ", ".join(p for p in parts if p)
