"""Person composer: "Ai là Bí thư …?" is answerable only from a plan's signature block."""

from __future__ import annotations

from retriever.answer import Answer
from retriever.composers.meta import plan_identity
from retriever.context import AskContext


def compose(ctx: AskContext) -> Answer | None:
    title = ctx.q.person_title
    if not title:
        return None
    window = ctx.settings.signature_window
    for doc_id in ctx.docs or list(ctx.corpus.documents):
        if title in ctx.corpus.signature_block(doc_id, window):
            return plan_identity(ctx, [doc_id])
    return ctx.abstain("các kế hoạch không nêu người giữ chức vụ này")
