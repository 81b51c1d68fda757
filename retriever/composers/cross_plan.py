"""Cross-plan composer: one quoted passage per plan the question names, so plans can be compared."""

from __future__ import annotations

from ingest.textnorm import collapse_ws
from retriever.answer import Answer, citation_header
from retriever.context import AskContext
from retriever.passages import best_windows


def compose(ctx: AskContext) -> Answer | None:
    if not ctx.multi_plan:
        return None
    corpus, q = ctx.corpus, ctx.q
    parts, firsts = [], []
    for doc_id in ctx.docs or []:
        doc_hits = [h for h in ctx.hits if corpus.by_id[h.chunk_id].doc_id == doc_id][:ctx.settings.cross_plan_hits]
        if not doc_hits:
            doc_hits = ctx.searcher.search(q.text, ctx.settings.cross_plan_hits, rows=corpus.doc_rows[doc_id],
                                           lexical_query=q.search, qvec=ctx.qvec)
        picks = best_windows(ctx, doc_hits)
        if not picks:
            continue
        hit, window = picks[0]
        firsts.append(hit)
        section = corpus.by_id[hit.chunk_id].section
        parts.append(f"{citation_header(corpus.citation(0, hit))} (mục {section}): “{collapse_ws(window)}”")
    if not parts:
        return ctx.abstain("không có câu nào trả lời đúng loại thông tin được hỏi")
    cits = corpus.cite(firsts, ctx.hits, max(ctx.k, len(firsts)))
    return ctx.answer("So sánh giữa các văn bản:\n" + "\n".join(f"- {p}" for p in parts), cits,
                      intent="cross_doc")
