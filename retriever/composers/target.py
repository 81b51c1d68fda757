"""Target composer: the value, unit and period of an indicator (chỉ tiêu) per plan, quoting its sentence."""

from __future__ import annotations

from ingest.targets import BY_KEY
from ingest.textnorm import collapse_ws, search_tokens
from retriever.answer import Answer, sentences
from retriever.checks import DOC_NUMBER_RE, TOPIC_EXCLUDE
from retriever.composers.wording import clip, period, show_value
from retriever.context import ASSIGNMENT_INTENTS, AskContext
from retriever.facts import question_indicators, target_label
from retriever.fuzzy import near_any


def compose(ctx: AskContext) -> Answer | None:
    q = ctx.q
    if not ctx.structured or "target" not in q.intents or not question_indicators(q.folded):
        return None
    if set(q.intents) & ASSIGNMENT_INTENTS and ctx.multi_plan:
        return None  # a comparison of assignments across plans: the assignment composer had its say
    targets = ctx.corpus.facts.match_targets(q.folded, ctx.docs, q.years)
    if not targets:
        return None
    if not ctx.docs:  # no plan named: take the plans of the best passages
        top = ctx.hits[:ctx.settings.target_plans_from_hits]
        top_docs = list(dict.fromkeys(ctx.corpus.by_id[h.chunk_id].doc_id for h in top))
        targets = [t for t in targets if t.doc_id == top_docs[0]] or targets
    quotes = {id(t): sentence_around(ctx, t.doc_id, t.start, t.end) for t in targets}
    if not fits_indicator(ctx, targets, quotes):
        return None
    return _listing(ctx, targets, quotes)


def _listing(ctx: AskContext, targets: list, quotes: dict[int, str]) -> Answer:
    s, corpus = ctx.settings, ctx.corpus
    lines, firsts = [], []
    for doc_id in dict.fromkeys(t.doc_id for t in targets):
        head = corpus.documents[doc_id].meta.label
        for t in distinct_targets([t for t in targets if t.doc_id == doc_id])[:s.targets_per_plan]:
            quote = collapse_ws(quotes[id(t)])
            lines.append(f"- {head}: {target_label(t)} {show_value(t.value)} {t.unit} ({period(t.period)}); mục "
                         f"{' › '.join(t.section_path)}: “{clip(quote, s.quote_target)}”")
            firsts += corpus.hit_at(doc_id, t.start)
    cits = corpus.cite(firsts, ctx.hits, max(ctx.k, len(set(h.chunk_id for h in firsts))))
    facts = {"kind": "targets", "targets": [
        {"doc_id": t.doc_id, "indicator": t.indicator, "label": target_label(t), "value": t.value,
         "unit": t.unit, "period": t.period} for t in targets]}
    return ctx.answer("\n".join(lines), cits, intent="target", evidence=quotes[id(targets[0])], facts=facts)


def sentence_around(ctx: AskContext, doc_id: str, start: int, end: int) -> str:
    """The sentence(s) of the passage that hold ``[start, end)``, as printed (a table row's own line)."""
    s = ctx.settings
    c = ctx.corpus.chunk_at(doc_id, start)
    if c is None:
        return ctx.corpus.documents[doc_id].text[start:end]
    a, b = start - c.start, end - c.start
    spans = [x for x in sentences(c.text) if x.start < b and a < x.end]
    lo = min((x.start for x in spans), default=a)
    hi = max((x.end for x in spans), default=b)
    if hi - lo > s.row_span_max or a - lo > s.row_lead_max:  # a table row, not prose: take the row's own lines
        lo = c.text.rfind("\n", 0, a) + 1
        nl = c.text.find("\n", b)
        hi = len(c.text) if nl < 0 else nl
    return c.text[lo:hi].strip()


def fits_indicator(ctx: AskContext, targets: list, quotes: dict[int, str]) -> bool:
    """The question asks about the indicator itself, not about a task that merely mentions it
    ("luân phiên bác sĩ …" is not a question about the number of doctors)."""
    s, corpus = ctx.settings, ctx.corpus
    label_words = set()
    for t in targets:
        label_words |= set(search_tokens(target_label(t) + " " + BY_KEY[t.indicator].label))
    question = DOC_NUMBER_RE.sub(" ", ctx.q.expanded)
    extra = corpus.facts.topic_words(question, ctx.q.places) - label_words - TOPIC_EXCLUDE
    if not extra:
        return True
    best = 0.0
    total = sum(corpus.idf.get(w, 1.0) for w in extra)
    for t in targets:
        doc = corpus.documents[t.doc_id]
        near = doc.text[max(0, t.start - s.context_before): t.end + s.context_after]
        have = set(search_tokens(quotes[id(t)] + " " + near))
        ocr = doc.meta.ocr
        best = max(best, sum(corpus.idf.get(w, 1.0) for w in extra
                             if w in have or (ocr and near_any(w, have, min_len=4))) / total)
    return best >= s.target_fit_min


def distinct_targets(targets: list) -> list:
    """Targets with a distinct (value, period), in order."""
    seen, out = set(), []
    for t in targets:
        key = (t.value, t.period)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out
