"""Answer windows: the best one- or two-sentence spans of the top passages that pass the answer-type checks."""

from __future__ import annotations

import re

from index.lexical import terms
from ingest.textnorm import repaired
from retriever.answer import overlap_score, sentences
from retriever.checks import fits_question
from retriever.context import AskContext
from retriever.fusion import Hit

# question words that carry no topic
GENERIC = {"co", "quan", "nao", "gi", "bao", "nhieu", "ai", "la", "cua", "o", "trong", "ke", "hoach", "xa", "tinh"}
# folded words that show a window states the asked relation
INTENT_TERMS = {
    "lead": ("chu tri", "giao "),
    "coordination": ("phoi hop",),
    "deadline": ("truoc ngay", "nam 20", "hang nam", "thuong xuyen", "den nam"),
    "target": ("%", "dat ", "tang "),
}


def best_windows(ctx: AskContext, hits: list[Hit]) -> list[tuple[Hit, str]]:
    """Windows of ``hits`` that pass the answer-type checks, best first (ties: rank, then chunk id)."""
    s = ctx.settings
    qt = set(terms(ctx.q.text)) - GENERIC
    bonus_terms = INTENT_TERMS.get(ctx.intent, ())
    scored: list[tuple[float, int, Hit, str]] = []
    for rank, h in enumerate(hits):
        c = ctx.corpus.by_id[h.chunk_id]
        ocr = ctx.corpus.documents[c.doc_id].meta.ocr
        sents = sentences(c.text)
        for i, sent in enumerate(sents):
            window = sent.text if i + 1 >= len(sents) else c.text[sent.start: sents[i + 1].end]
            one = window_score(ctx, qt, sent.text, rank, bonus_terms)
            two = window_score(ctx, qt, window, rank, bonus_terms) * s.pair_discount
            text = sent.text if one >= two or len(sent.text) > s.long_sentence else window
            score = max(one, two)
            if score > 0 and fits_question(ctx, text, c, ocr):
                scored.append((score, rank, h, text))
    scored.sort(key=lambda x: (-x[0], x[1], x[2].chunk_id))
    return [(h, t) for _, _, h, t in scored]


def window_score(ctx: AskContext, qt: set[str], text: str, rank: int, bonus_terms: tuple[str, ...]) -> float:
    """Topic overlap of a window, decayed by its passage's rank, raised when it states the asked relation."""
    s = ctx.settings
    score = overlap_score(qt, ctx.corpus.idf, text) / (1 + s.rank_decay * rank)
    rep = repaired(text)
    if any(b in rep for b in bonus_terms):
        score *= s.intent_bonus
    if ctx.intent in ("target", "deadline") and re.search(r"\d", rep):
        score *= s.digit_bonus
    if len(text) < s.short_window:
        score *= s.short_penalty
    return score
