"""Typed records that flow from ingest to index, retriever and app."""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DocMeta:
    """Identity of one plan, as printed in its header (repaired where OCR broke it)."""

    number: str | None  # "07-KH/TU"; None where the plan leaves it blank
    number_raw: str | None  # the header text it was read from ("$6 07 -KH/TU")
    doc_type: str | None  # "Kế hoạch" | "Chương trình hành động"
    issuer: str | None  # "Ban Thường vụ Tỉnh ủy Điện Biên"
    locality: str | None  # "tỉnh Điện Biên", "xã Mường La"
    date: str | None  # as far as printed: "21/11/2025", "01/2026", "2025"
    date_iso: str | None  # "2025-11-21" only when day, month and year are all printed
    signer: str | None
    title: str | None  # the line(s) under the type heading
    ocr: bool  # True when the text is OCR output with broken diacritics
    # Where each printed page starts in ``Document.text``: ((start_offset, page_no), ...), sorted by offset.
    # Empty for plain-text plans (no pages).  Read it with :meth:`page_of`.
    pages: tuple[tuple[int, int], ...] = ()
    # Line boxes of OCR'd or PDF pages: ((start, end, page_no, x0, y0, x1, y1), ...) with the box in fractions
    # of the page's width and height (0..1, origin top left), so a citation can point at its place on the page.
    boxes: tuple[tuple[int, int, int, float, float, float, float], ...] = ()
    ocr_pages: tuple[int, ...] = ()  # the pages whose text is OCR output (scans, or an unreadable text layer)

    def citation_label(self) -> str:
        """Short label officials paste into a note: "Kế hoạch số 07-KH/TU (Tỉnh ủy Điện Biên, 21/11/2025)"."""
        kind = self.doc_type or "Văn bản"
        num = f"số {self.number}" if self.number else "(chưa ghi số)"
        extra = ", ".join(x for x in (self.issuer, self.date) if x)
        return f"{kind} {num}" + (f" ({extra})" if extra else "")

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
