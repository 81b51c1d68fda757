"""Meta composer: number, type, issuer, date, signer and title of a plan, cited from its header and signature."""

from __future__ import annotations

import re

from retriever.answer import Answer
from retriever.context import AskContext
from retriever.fusion import Hit
from retriever.scope import as_typed


def compose(ctx: AskContext) -> Answer | None:
    """"Kế hoạch … có số hiệu gì / ban hành ngày nào / ai ký?"."""
    if "meta" not in ctx.q.intents:
        return None
    return plan_identity(ctx, ctx.docs)


def plan_identity(ctx: AskContext, docs: list[str] | None) -> Answer:
    """The identity of the one plan in ``docs`` (else of the best hit's plan), citing the chunks that print it;
    a plan number the question names that is only cited by the indexed plans is refused."""
    missing = [n for n in ctx.q.numbers if n not in ctx.scope.by_number]
    if missing:
        return ctx.abstain(f"văn bản {as_typed(ctx.q, missing[0])} chỉ được nhắc đến, không có trong kho")
    doc_id = docs[0] if docs and len(docs) == 1 else ctx.corpus.by_id[ctx.hits[0].chunk_id].doc_id
    m = ctx.corpus.documents[doc_id].meta
    firsts = identity_chunks(ctx, doc_id)
    first = ctx.corpus.by_id[firsts[0].chunk_id]
    cits = ctx.corpus.cite(firsts, ctx.hits, ctx.k)
    parts = [f"{m.doc_type or 'Văn bản'} " + (f"số {m.number}" if m.number else "không ghi số (để trống)")]
    if m.issuer:
        parts.append(f"do {m.issuer} ban hành")
    parts.append(f"ngày {m.date}" if m.date and "/" in m.date and m.date.count("/") == 2
                 else (f"thời gian ghi: {m.date} (không ghi đủ ngày tháng)" if m.date else "không ghi ngày"))
    text = ", ".join(parts) + "."
    if m.signer:
        text += f" Người ký: {m.signer}."
    if m.number_raw and m.number_raw != f"Số {m.number}":
        text += f" (In trong văn bản: “{m.number_raw}”.)"
    if m.title:
        text += f" Trích yếu: {m.title}"
    return ctx.answer(text, cits, intent="meta", evidence=first.text[:ctx.settings.meta_evidence])


def identity_chunks(ctx: AskContext, doc_id: str) -> list[Hit]:
    """Chunks that print the plan's identity: header, the "… ban hành" sentence, signature, blank number."""
    d = ctx.corpus.documents[doc_id]
    rep = ctx.corpus.folded_texts[doc_id]
    spots = [0]
    m = re.search(r"(ban hanh|xay dung) (chuong trinh|ke hoach)", rep)
    if m:
        spots.append(m.start())
    if d.meta.signer:
        spots.append(d.text.rfind(d.meta.signer))
    if d.meta.number_raw:
        found = re.search(r"\s*".join(map(re.escape, d.meta.number_raw.split())), d.text)
        if found:
            spots.append(found.start())
    out: list[Hit] = []
    for at in spots:
        c = ctx.corpus.chunk_at(doc_id, at)
        if c and all(h.chunk_id != c.chunk_id for h in out):
            out.append(Hit(c.chunk_id, 1.0))
    return out
