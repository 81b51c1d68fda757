"""One assignment of a plan: who does what by when, with the span of its source text."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PROSE, APPENDIX_TABLE, OCR_TABLE = "prose", "appendix_table", "ocr_table"
HIGH, MEDIUM, LOW = "high", "medium", "low"


@dataclass(frozen=True)
class Assignment:
    doc_id: str
    task: str
    lead: tuple[str, ...]
    coordinating: tuple[str, ...]
    deadline: str | None
    expected_result: str | None
    directing: tuple[str, ...]  # "Cấp ủy chỉ đạo" (party committee directing), where printed
    section_path: tuple[str, ...]
    start: int
    end: int
    form: str  # prose | appendix_table | ocr_table
    row: str | None  # item number or table STT as printed (or inferred where OCR lost it)
    confidence: str  # high | medium | low

    @property
    def source_span(self) -> tuple[int, int]:
        """Offsets of the source text in ``Document.text``."""
        return self.start, self.end

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("lead", "coordinating", "directing", "section_path"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Assignment:
        return cls(
            doc_id=d["doc_id"], task=d["task"], lead=tuple(d["lead"]), coordinating=tuple(d["coordinating"]),
            deadline=d.get("deadline"), expected_result=d.get("expected_result"),
            directing=tuple(d.get("directing", ())), section_path=tuple(d["section_path"]),
            start=int(d["start"]), end=int(d["end"]), form=d["form"], row=d.get("row"),
            confidence=d["confidence"],
        )
