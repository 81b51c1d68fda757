"""One question of the web UI: the filters chosen, the retriever asked within them, the turn shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.ui_render import Turn
from index.store import StoredDocument
from ingest.records import plan_label
from retriever.answer import Answer
from retriever.service import Retriever

ALL = "*"  # dropdown value meaning "no filter"
OUT_OF_SCOPE_TEXT = "Không tìm thấy thông tin này trong các văn bản thuộc phạm vi đã lọc."
NO_MATCH_TEXT = "Không có văn bản nào khớp với bộ lọc đã chọn."


@dataclass(frozen=True)
class Filters:
    doc_id: str = ALL
    locality: str = ALL
    doc_type: str = ALL

    @property
    def active(self) -> bool:
        return any(v not in (ALL, None, "") for v in (self.doc_id, self.locality, self.doc_type))

    def match(self, d: StoredDocument) -> bool:
        return (self.doc_id in (ALL, None, "", d.doc_id) and self.locality in (ALL, None, "", d.meta.locality)
                and self.doc_type in (ALL, None, "", d.meta.doc_type))


def apply_filters(answer: Answer, question: str, allowed: set[str] | None, scope: str | None) -> Turn:
    """The turn shown for ``answer``, keeping only citations from ``allowed`` plans (None = all)."""
    cits = answer.citations
    if allowed is not None and not answer.abstained:
        kept = [c for c in cits if c.doc_id in allowed]
        if not kept or kept[0] is not cits[0]:  # the answer quotes cits[0]: out of scope → refuse
            return Turn(question, OUT_OF_SCOPE_TEXT, True, (), scope)
        cits = tuple(replace(c, rank=i + 1) for i, c in enumerate(kept))
    return Turn(question, answer.answer, answer.abstained, () if answer.abstained else cits, scope)


def scope_text(allowed: Sequence[StoredDocument]) -> str:
    """ "Phạm vi lọc: Chương trình hành động số 12-CTr/ĐU – Đảng ủy xã Định Hóa; …"."""
    return "Phạm vi lọc: " + "; ".join(plan_label(d.meta.doc_type, d.meta.number)
                                       + (f" – {d.meta.issuer}" if d.meta.issuer else "")
                                       for d in allowed)


def ask_turn(r: Retriever, question: str, filters: Filters, k: int = 5) -> Turn:
    """Ask within the plans the filters allow (``Retriever.ask(doc_ids=…)``); citations are checked again."""
    docs = list(r.bundle.documents.values())
    allowed = [d for d in docs if filters.match(d)] if filters.active else docs
    if not allowed:
        return Turn(question, NO_MATCH_TEXT, True)
    if len(allowed) == len(docs):
        return apply_filters(r.ask(question, k=k), question, None, None)
    ids = [d.doc_id for d in allowed]
    return apply_filters(r.ask(question, k=k, doc_ids=ids), question, set(ids), scope_text(allowed))
