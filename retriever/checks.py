"""Checks stage: the relevance gate before composing, and the answer-type checks a quoted window must pass."""

from __future__ import annotations

import re

from index.store import index_text
from ingest.records import Chunk
from ingest.textnorm import repaired, search_tokens
from retriever.answer import STOPWORDS, content_terms, overlap_score
from retriever.context import AskContext
from retriever.fuzzy import near_any
from retriever.query import Query

TARGET_GENERIC = {"cap", "dat", "muc", "tieu", "chi", "ty", "le", "tang", "giam", "them", "toi", "thieu", "den", "nam",
                  "bao", "nhieu", "phan", "dau", "ra", "duoc", "tren", "it", "nhat", "so", "tong", "ve", "moi"}
# words that say what kind of fact is asked, not what it is about
TOPIC_EXCLUDE = TARGET_GENERIC | {"dang", "uy", "thuong", "vu", "ngay", "thang", "phai", "vao", "ky", "hien",
                                  "nay", "khi", "nao", "hoan", "thanh", "bat", "tu", "luc"}
DOC_NUMBER_RE = re.compile(r"\d{1,4}\s*-?\s*[A-Za-z]{1,4}\s*/\s*[A-Za-zĐđ]{1,6}")
_AMOUNT_RE = re.compile(r"\d[\d.,]*\s*(?:ty|trieu|nghin)\s*dong")
_CURRENT_RE = re.compile(r"(?<!thuc )\b(hien nay|hien tai|hien co)\b")
_DATE_RE = re.compile(r"\d{1,2}/\d{1,2}(/\d{4})?|ngay \d{1,2}")


def relevance(ctx: AskContext) -> tuple[bool, str | None]:
    """A loose topical gate; the answer-type checks in :func:`fits_question` do the precise work."""
    q, corpus = ctx.q, ctx.corpus
    qt = set(content_terms(q.text))
    if not qt or "meta" in q.intents:
        return True, None
    total = sum(corpus.idf.get(t, 1.0) for t in qt)
    best_cov, best_dense = 0.0, 0.0
    for h in ctx.hits[:ctx.settings.gate_hits]:
        c = corpus.by_id[h.chunk_id]
        text = index_text(corpus.documents[c.doc_id].meta, c)
        best_cov = max(best_cov, overlap_score(qt, corpus.idf, text) / total)
        best_dense = max(best_dense, float(corpus.vector(h.chunk_id) @ ctx.qvec))
    s = ctx.settings
    ok = best_cov >= s.min_coverage or best_dense >= s.min_dense
    return ok, None if ok else "các đoạn gần nhất không nói đến nội dung này"


def fits_question(ctx: AskContext, text: str, chunk: Chunk, ocr: bool) -> bool:
    """Answer-type checks: a quoted window must hold the kind of fact the question asks for."""
    q, s = ctx.q, ctx.settings
    rep = repaired(text)
    if "amount" in q.intents and not _AMOUNT_RE.search(rep):
        return False
    if q.asks_current and not _CURRENT_RE.search(rep):
        return False
    if q.asks_exact_date and not _DATE_RE.search(rep):
        return False
    if q.years and any(y not in ctx.corpus.part_text(chunk) for y in q.years):
        return False
    factual = ctx.intent in ("target", "deadline", "amount") or q.asks_exact_date or q.asks_current
    if factual and topic_coverage(ctx, rep, ocr) < s.factual_topic_min:
        return False
    if ctx.intent == "target":
        at = chunk.text.find(text)
        around = chunk.text[max(0, at - s.context_before): at + len(text) + s.context_after] if at >= 0 else text
        if not re.search(r"\d", rep) or topic_coverage(ctx, repaired(around), ocr) < s.target_topic_min:
            return False
    return True


def topic_words(q: Query) -> tuple[list[str], set[str]]:
    """The question's search tokens, and its topic words (places, numbers, years, question words removed)."""
    places = set(" ".join(q.places).split())
    toks = search_tokens(DOC_NUMBER_RE.sub(" ", q.expanded))
    keep = {t for t in toks if t not in TOPIC_EXCLUDE and t not in STOPWORDS and t not in places
            and len(t) > 1 and not any(ch.isdigit() for ch in t)}
    return toks, keep


def topic_coverage(ctx: AskContext, rep: str, ocr: bool) -> float:
    """IDF share of the question's topic words in folded text ``rep``; OCR text matches a word within one edit.
    On clean text, word pairs of the question count half."""
    toks, words = topic_words(ctx.q)
    if not words:
        return 1.0
    idf = ctx.corpus.idf
    have_list = re.findall(r"[a-z0-9]+", rep)
    have = set(have_list)
    total = sum(idf.get(t, 1.0) for t in words)
    uni = sum(idf.get(t, 1.0) for t in words if t in have or (ocr and near_any(t, have))) / total
    pairs = {f"{a}_{b}" for a, b in zip(toks, toks[1:], strict=False) if a in words and b in words}
    if ocr or not pairs:
        return uni
    have_pairs = {f"{a}_{b}" for a, b in zip(have_list, have_list[1:], strict=False)}
    return 0.5 * uni + 0.5 * sum(p in have_pairs for p in pairs) / len(pairs)
