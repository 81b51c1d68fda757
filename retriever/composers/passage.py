"""Passage composer (the last one): the best window of the top passages, quoted with its plan and section."""

from __future__ import annotations

from ingest.textnorm import collapse_ws
from retriever.answer import Answer, citation_header, lead_agency
from retriever.context import AskContext
from retriever.passages import best_windows


def compose(ctx: AskContext) -> Answer:
    picks = best_windows(ctx, ctx.hits[:ctx.settings.window_hits])
    if not picks:
        return ctx.abstain("không có câu nào trả lời đúng loại thông tin được hỏi")
    hit, window = picks[0]
    chunk = ctx.corpus.by_id[hit.chunk_id]
    lead_in = ""
    if ctx.intent in ("lead", "coordination"):
        agency = lead_agency(window, chunk.section_path[-1] if chunk.section_path else None)
        if agency:
            lead_in = f"Cơ quan chủ trì: {agency}. "
    cits = ctx.corpus.cite([hit], ctx.hits, ctx.k)
    text = f"{lead_in}Theo {citation_header(cits[0])}, mục {chunk.section}: “{collapse_ws(window)}”"
    return ctx.answer(text, cits, evidence=window)
