"""Assignment composer: lead agency, coordinating agencies and deadline of the task a question names, quoted
from the plan's row or sentence; one per plan when the question compares plans."""

from __future__ import annotations

import re

from ingest.agencies import agency_key
from ingest.assignment_record import Assignment
from ingest.textnorm import collapse_ws, repaired
from retriever.answer import Answer, citation_header
from retriever.composers.wording import clip, describe_assignment
from retriever.context import ASSIGNMENT_INTENTS, AskContext
from retriever.corpus import Corpus
from retriever.facts import Scored, agencies_named

_COORDINATES = re.compile(r"\bphoi hop\b")
_ROW_LABEL = re.compile(r"\b(?:muc|dong|stt|hang)\s+(\d{1,2}(?:\.\d{1,2})?)\b")


def compose(ctx: AskContext) -> Answer | None:
    if not (ctx.structured and set(ctx.q.intents) & ASSIGNMENT_INTENTS):
        return None
    if ctx.multi_plan:
        return per_plan(ctx)
    return single(ctx)


def best_assignment(ctx: AskContext, docs: list[str] | None):
    """The assignment whose text holds most of the question's topic (at least the settings' share) and that
    prints the fact asked (a deadline, coordinators: :func:`asked_fact`), or None.  A record without that fact
    gives way to the next one holding it when that one matches nearly as well (``assignment_fact_margin``)."""
    q, s = ctx.q, ctx.settings
    ranks = chunk_ranks(ctx.corpus, ctx.hits, s.assignment_rank_hits)
    ranked = ctx.corpus.facts.match_assignments(q.expanded, q.places, docs, ranks, rows=row_labels(q.folded),
                                                specific=s.assignment_specific)
    if not ranked:
        return None
    return pick_assignment(ranked, asked_fact(ctx, ranked[0].record), s.min_assignment_match,
                           s.assignment_fact_margin)


def asked_fact(ctx: AskContext, best: Assignment) -> str:
    """The intent whose fact the answer must print.  A coordination question needs coordinators printed only
    when it names the best task's lead ("phối hợp với Sở X"); otherwise ("đề nghị cơ quan nào phối hợp …")
    it may ask for the lead itself."""
    if ctx.intent != "coordination":
        return ctx.intent
    named = {agency_key(n) for n in agencies_named(ctx.q.text)}
    return "coordination" if named & {agency_key(n) for n in best.lead} else "lead"


def pick_assignment(ranked: list[Scored], intent: str, min_score: float, margin: float) -> Assignment | None:
    """The best of ``ranked`` (best first) printing the fact ``intent`` asks, if it scores at least
    ``min_score`` and within ``margin`` of the best; else the best one (a deadline question: none)."""
    if not ranked or ranked[0].score < min_score:
        return None
    floor = max(min_score, ranked[0].score - margin)
    for scored in ranked:
        if scored.score < floor:
            break
        if prints_asked_fact(scored.record, intent):
            return scored.record
    return None if intent == "deadline" else ranked[0].record


def prints_asked_fact(a: Assignment, intent: str) -> bool:
    """The assignment holds what a question asks: a deadline, coordinators, or (a lead question) a lead."""
    if intent == "deadline":
        return bool(a.deadline)
    if intent == "coordination":  # named coordinators, or a lead whose task is itself to coordinate
        return bool(a.coordinating) or _COORDINATES.search(repaired(a.task)) is not None
    return bool(a.lead)


def single(ctx: AskContext) -> Answer | None:
    a = best_assignment(ctx, ctx.docs)
    if a is None:
        return None
    s, corpus = ctx.settings, ctx.corpus
    src = corpus.documents[a.doc_id]
    quote = collapse_ws(src.text[a.start:a.end])
    first = corpus.hit_at(a.doc_id, a.start)
    cits = corpus.cite(first, ctx.hits, ctx.k)
    header = citation_header(corpus.citation(0, first[0])) if first else src.meta.doc_type
    lines = [describe_assignment(a, s.task_clip, src.meta.ocr),
             f"Nguồn: {header}, mục {' › '.join(a.section_path)}: “{clip(quote, s.quote_assignment)}”"]
    facts = {"kind": "assignment", "doc_id": a.doc_id, "lead": list(a.lead), "coordinating": list(a.coordinating),
             "deadline": a.deadline, "task": collapse_ws(a.task), "section": " › ".join(a.section_path),
             "confidence": a.confidence}
    return ctx.answer("\n".join(lines), cits, evidence=src.text[a.start:a.end], facts=facts)


def per_plan(ctx: AskContext) -> Answer | None:
    """A lead/coordination question about several plans: the best assignment of each."""
    lines, firsts = [], []
    for doc_id in ctx.docs or []:
        a = best_assignment(ctx, [doc_id])
        if a is None:
            continue
        meta = ctx.corpus.documents[doc_id].meta
        said = describe_assignment(a, ctx.settings.task_clip, meta.ocr)
        lines.append(f"- {meta.label}, mục {' › '.join(a.section_path)}: {said}")
        firsts += ctx.corpus.hit_at(a.doc_id, a.start)
    if not lines:
        return None
    cits = ctx.corpus.cite(firsts, ctx.hits, max(ctx.k, len(firsts)))
    return ctx.answer("\n".join(lines), cits)


def chunk_ranks(corpus: Corpus, hits: list, n: int) -> dict[tuple[str, int], int]:
    """(plan, start) of each assignment held by one of the top ``n`` hits → the best rank of such a hit."""
    ranks: dict[tuple[str, int], int] = {}
    for rank, h in enumerate(hits[:n]):
        c = corpus.by_id[h.chunk_id]
        for a in corpus.facts.of_doc(c.doc_id):
            if c.start <= a.start < c.end:
                ranks.setdefault((a.doc_id, a.start), rank)
    return ranks


def row_labels(folded_question: str) -> tuple[str, ...]:
    """Table row labels a question names: "(mục 6.1 Phụ lục 02)", "dòng 9"."""
    return tuple(_ROW_LABEL.findall(folded_question))
