"""Typed records that flow from ingest to index, retriever and app."""

from __future__ import annotations

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

    def citation_label(self) -> str:
        """Short label officials paste into a note: "Kế hoạch số 07-KH/TU (Tỉnh ủy Điện Biên, 21/11/2025)"."""
        kind = self.doc_type or "Văn bản"
        num = f"số {self.number}" if self.number else "(chưa ghi số)"
        extra = ", ".join(x for x in (self.issuer, self.date) if x)
        return f"{kind} {num}" + (f" ({extra})" if extra else "")


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


def plan_label(meta: DocMeta) -> str:
    """ "Kế hoạch 07-KH/TU · Ban Thường vụ Tỉnh ủy Điện Biên · 21/11/2025": the parts printed in the plan,
    with "Văn bản" / "(không số)" where type or number is missing; never "None"."""
    head = f"{meta.doc_type or 'Văn bản'} {meta.number or '(không số)'}"
    return " · ".join([head, *(x for x in (meta.issuer, meta.date) if x)])


def meta_to_json(meta: DocMeta) -> dict[str, Any]:
    return asdict(meta)


def meta_from_json(d: dict[str, Any]) -> DocMeta:
    return DocMeta(**d)
