"""What a reader sees: the restored reading of OCR plans, with the text as printed one click away.

Every place that shows plan text (answers, passages, search hits, the reader, briefing tables and exports) asks
:class:`Display` for a :class:`Shown`: ``text`` is the restored reading for a plan detected as OCR
(``DocMeta.ocr``) and the printed text otherwise; ``printed`` is always the text as printed, on which every
citation offset stays.  Restorations come from the index (``restored.jsonl``, made at build time by
:mod:`index.restored`) or, for an index without them, are made on first use and cached per plan; rendered
passages are cached per chunk.  Low-confidence tokens are marked in HTML (``<span class="kh-lowconf">``), and
person names the restorer was not sure of stay as printed (``<span class="kh-kept">``).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from index.restored import DocRestoration, Restorations, restore_documents
from ingest.restore import Span, restore
from ingest.restore_model import looks_garbled

LOWCONF_CLASS = "kh-lowconf"
KEPT_CLASS = "kh-kept"
# Text fields of the briefing records (assignments, targets) shown to a reader; other fields are codes or numbers.
RECORD_TEXT_FIELDS = ("task", "lead", "coordinating", "deadline", "expected_result", "directing", "section_path",
                      "label", "unit")


@dataclass(frozen=True)
class Shown:
    """A text to show: restored reading, printed text, and the restored tokens (offsets on ``printed``)."""

    text: str
    printed: str
    spans: tuple[Span, ...] = ()
    kept_names: tuple[Span, ...] = ()

    @property
    def restored(self) -> bool:
        return self.text != self.printed

    @property
    def low_confidence(self) -> list[Span]:
        return [s for s in self.spans if s.low_confidence]

    def to_json(self) -> dict:
        """Fields added to an API object beside its ``text``: ``printed``, ``restored``, ``low_confidence``."""
        return {"printed": self.printed, "restored": self.restored,
                "low_confidence": [{"start": s.start, "end": s.end, "printed": s.original, "restored": s.restored,
                                    "confidence": s.confidence} for s in self.low_confidence]}

    def html(self, printed: bool = False) -> str:
        """Escaped HTML of the restored reading with uncertain tokens marked (``printed``: the text as printed)."""
        if printed or not (self.spans or self.kept_names):
            return html.escape(self.printed)
        marks = sorted([(s, False) for s in self.spans] + [(s, True) for s in self.kept_names],
                       key=lambda m: m[0].start)
        parts, last = [], 0
        for s, kept in marks:
            parts.append(html.escape(self.printed[last:s.start]))
            parts.append(_mark(s, kept))
            last = s.end
        parts.append(html.escape(self.printed[last:]))
        return "".join(parts)


def _mark(s: Span, kept: bool) -> str:
    if kept:
        title = f"Giữ nguyên như bản in: có thể là “{s.restored}” (độ tin cậy {s.confidence:.2f})"
        return f'<span class="{KEPT_CLASS}" title="{html.escape(title)}">{html.escape(s.original)}</span>'
    if not s.low_confidence:
        return html.escape(s.restored)
    title = f"Bản in: “{s.original}” · độ tin cậy {s.confidence:.2f}"
    return f'<span class="{LOWCONF_CLASS}" title="{html.escape(title)}">{html.escape(s.restored)}</span>'


def _shift(spans: Iterable[Span], by: int) -> tuple[Span, ...]:
    return tuple(Span(s.start - by, s.end - by, s.original, s.restored, s.confidence, s.low_confidence)
                 for s in spans)


def shown_range(text: str, r: DocRestoration | None, start: int, end: int) -> Shown:
    """``text[start:end]`` of a plan (its printed text) with its restoration ``r`` applied."""
    printed = text[start:end]
    if r is None:
        return Shown(printed, printed)
    kept = [s for s in r.kept_names if s.start >= start and s.end <= end]
    return Shown(r.render(text, start, end), printed, _shift(r.in_range(start, end), start), _shift(kept, start))


@lru_cache(maxsize=4096)
def shown_string(text: str) -> Shown:
    """A short text not found in a plan (a signer, a normalised task title) restored on its own when it reads
    as OCR; anything else unchanged."""
    if not text or not looks_garbled(text):
        return Shown(text, text)
    r = restore(text)
    return Shown(r.text, text, tuple(r.spans), tuple(r.kept_names))


@dataclass
class Display:
    """Restored readings of one index's plans (``documents``: doc id → object with ``text`` and ``meta``)."""

    documents: dict
    restorations: Restorations | None = None
    _chunks: dict[str, Shown] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def restoration(self, doc_id: str) -> DocRestoration | None:
        d = self.documents.get(doc_id)
        if d is None or not d.meta.ocr:
            return None
        with self._lock:
            if self.restorations is None or (doc_id not in self.restorations and d.meta.ocr):
                self.restorations = {**(self.restorations or {}), **restore_documents([d])}
            return self.restorations.get(doc_id)

    def span(self, doc_id: str, start: int, end: int) -> Shown:
        """The plan's printed ``[start, end)`` with its restored reading."""
        text = self.documents[doc_id].text
        return shown_range(text, self.restoration(doc_id), start, end)

    def chunk(self, chunk) -> Shown:
        """A passage (cached per chunk id)."""
        shown = self._chunks.get(chunk.chunk_id)
        if shown is None:
            shown = self._chunks[chunk.chunk_id] = self.span(chunk.doc_id, chunk.start, chunk.end)
        return shown

    def document(self, doc_id: str) -> Shown:
        return self.span(doc_id, 0, len(self.documents[doc_id].text))

    def string(self, text: str | None, doc_ids: Iterable[str]) -> Shown:
        """A text taken from the plans ``doc_ids`` (an answer, a task, a signer): restored in the context of the
        OCR plan that prints it line by line, else on its own; unchanged when no such plan is an OCR plan."""
        text = text or ""
        ocr = [d for d in dict.fromkeys(doc_ids) if d in self.documents and self.documents[d].meta.ocr]
        if not ocr or not text:
            return Shown(text, text)
        return _joined([self._line(line, ocr) for line in text.split("\n")])

    def _line(self, line: str, doc_ids: list[str]) -> Shown:
        if not line.strip():
            return Shown(line, line)
        for doc_id in doc_ids:
            pos = self.documents[doc_id].text.find(line)
            if pos >= 0:
                return self.span(doc_id, pos, pos + len(line))
        return shown_string(line)


    def record(self, rec):
        """A copy of a briefing record (an assignment, a target) with its text fields restored."""
        changes = {}
        for name in RECORD_TEXT_FIELDS:
            value = getattr(rec, name, None)
            if isinstance(value, str):
                changes[name] = self.string(value, [rec.doc_id]).text
            elif isinstance(value, tuple):
                changes[name] = tuple(self.string(v, [rec.doc_id]).text for v in value)
        return replace(rec, **changes)

    def answer_text(self, text: str, citations) -> Shown:
        """An answer's text, restored in the context of the plans its ``citations`` quote."""
        return self.string(text, [c.doc_id for c in citations])

    def meta_field(self, doc_id: str, value: str | None) -> str | None:
        """A header field of a plan (signer, title) restored, names only when confident."""
        return None if value is None else self.string(value, [doc_id]).text

    def answer_json(self, answer) -> dict:
        """``Answer.to_json()`` with the restored reading in ``answer`` and each citation's ``text``, and the text
        as printed in ``printed`` (offsets, where given, stay on the printed text)."""
        out = answer.to_json()
        shown = self.answer_text(answer.answer, answer.citations)
        out.update(answer=shown.text, printed=shown.printed, restored=shown.restored)
        for row, c in zip(out["citations"], answer.citations, strict=True):
            s = self.citation(c)
            row.update(text=s.text, **s.to_json())
        return out

    def citation(self, c) -> Shown:
        """A cited passage (``doc_id``, ``start``, ``end``, ``text``) restored."""
        d = self.documents.get(c.doc_id)
        if d is not None and d.text[c.start:c.end] == c.text and c.end > c.start:
            return self.span(c.doc_id, c.start, c.end)
        return self.string(c.text, [c.doc_id])


def _joined(parts: list[Shown]) -> Shown:
    """Lines shown one after the other, joined by newlines (span offsets moved onto the joined text)."""
    spans: list[Span] = []
    kept: list[Span] = []
    offset = 0
    for p in parts:
        spans += _shift(p.spans, -offset)
        kept += _shift(p.kept_names, -offset)
        offset += len(p.printed) + 1
    return Shown("\n".join(p.text for p in parts), "\n".join(p.printed for p in parts), tuple(spans), tuple(kept))
