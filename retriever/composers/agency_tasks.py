"""Agency-tasks composer: "Sở Y tế chủ trì những nhiệm vụ nào?" lists every assignment the agency leads."""

from __future__ import annotations

import re

from ingest.records import UNKNOWN_TYPE, plan_label
from ingest.textnorm import collapse_ws
from retriever.answer import Answer
from retriever.composers.wording import clip
from retriever.context import ASSIGNMENT_INTENTS, AskContext
from retriever.facts import agencies_named
from retriever.fusion import Hit

_WHICH_PLANS = re.compile(r"\b(nhung|cac) (ke hoach|van ban|chuong trinh)( cap xa)? nao\b")
_WHICH_TASKS = re.compile(r"\b(nhung nhiem vu|nhiem vu nao|nhiem vu gi|nhung viec|viec gi|cac nhiem vu)\b")


def compose(ctx: AskContext) -> Answer | None:
    q = ctx.q
    if not (ctx.structured and set(q.intents) & ASSIGNMENT_INTENTS):
        return None
    if not (_WHICH_PLANS.search(q.folded) or _WHICH_TASKS.search(q.folded)):
        return None
    agencies = agencies_named(q.text)
    if not agencies:
        return None
    tasks = ctx.corpus.facts.by_agency(agencies[0], ctx.docs)
    if not tasks:
        return ctx.abstain(f"không có nhiệm vụ nào giao {agencies[0]} chủ trì trong phạm vi hỏi")
    return _listing(ctx, agencies[0], tasks)


def _listing(ctx: AskContext, agency: str, tasks: list) -> Answer:
    s, docs = ctx.settings, ctx.corpus.documents
    plans = list(dict.fromkeys(a.doc_id for a in tasks))
    lines = [f"{agency} chủ trì {len(tasks)} nhiệm vụ trong {len(plans)} văn bản: " + "; ".join(
        _kind_and_issuer(docs[p].meta) for p in plans)]
    firsts: list[Hit] = []
    shown = tasks[:s.max_tasks_listed]
    for a in shown:
        m = docs[a.doc_id].meta
        lines.append(f"- {clip(collapse_ws(a.task), s.task_clip_listed)} ({plan_label(m.doc_type, m.number)}, mục "
                     f"{' › '.join(a.section_path)}" + (f"; thời hạn: {a.deadline}" if a.deadline else "") + ")")
        firsts += ctx.corpus.hit_at(a.doc_id, a.start)
    if len(tasks) > len(shown):
        lines.append(f"… và {len(tasks) - len(shown)} nhiệm vụ khác (xem `kehoach assignments`).")
    cits = ctx.corpus.cite(firsts, ctx.hits, max(ctx.k, min(len(firsts), s.max_tasks_listed)))
    return ctx.answer("\n".join(lines), cits, intent="lead")


def _kind_and_issuer(m) -> str:
    """"Kế hoạch của Ban Thường vụ Tỉnh ủy Điện Biên" (the numbers follow on each task's line)."""
    return (m.doc_type or UNKNOWN_TYPE) + (f" của {m.issuer}" if m.issuer else "")
