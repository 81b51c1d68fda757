"""The changes proposed for ``retriever/service.py``, as a subclass the scale benchmark can measure.

Nothing here is used by the product: ``bench.probe`` runs the same questions through :class:`Retriever` and
through :class:`FastRetriever`, checks that every answer is identical, and reports both latencies.  Each
override is one proposed change (see docs/BENCHMARKS.md, "What to change in retriever/"):

1. ``analyse()`` tries one regex per known place for every question (2,600+ places at 200k chunks): look
   places up by the question's token n-grams first, then run the same regex on those few candidates only.
2. ``scope()`` walks every document per number/place (``repaired(locality)`` each time) and, for a place no
   plan's metadata names, runs a regex over the folded text of *every* plan: precompute the number and
   locality maps once; find plans mentioning a place through the lexical index's term columns, confirm with
   the same regex, and cache per place.
3. ``folded_texts`` folds every plan at start-up (minutes at 200k chunks): fold a plan when first needed.
4. ``_chunk_ranks()`` scans every assignment of every plan for each of the top 10 hits: group them by plan.
5. ``_chunk_at()`` scans every chunk of the index: scan the plan's own rows (``doc_rows``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np

from index.lexical import terms
from index.store import IndexBundle, check_encoder
from ingest.metadata import repaired
from ingest.records import Chunk
from ingest.textnorm import nfc
from retriever.facts import FactIndex
from retriever.query import Query, normalise_number
from retriever.search import HybridSearcher, HybridSettings
from retriever.service import AnswerSettings, Retriever, _as_typed, _facts_of

_TOKEN_RE = re.compile(r"[a-z]+|[0-9]+")


class _LazyFolded(dict):
    """doc_id → ``repaired(text)``, computed on first access."""

    def __init__(self, bundle: IndexBundle) -> None:
        super().__init__()
        self._docs = bundle.documents

    def __missing__(self, doc_id: str) -> str:
        value = repaired(self._docs[doc_id].text)
        self[doc_id] = value
        return value


class FastRetriever(Retriever):
    def __init__(self, bundle: IndexBundle, encoder: Any, hybrid: HybridSettings | None = None,
                 answer: AnswerSettings | None = None) -> None:
        # Retriever.__init__ with change 3 (lazy folding); the rest as in retriever/service.py
        check_encoder(bundle, encoder)
        self.bundle, self.encoder = bundle, encoder
        self.searcher = HybridSearcher(bundle, encoder, hybrid)
        self.settings = answer or AnswerSettings()
        self.by_id: dict[str, Chunk] = {c.chunk_id: c for c in bundle.chunks}
        self.row: dict[str, int] = {c.chunk_id: i for i, c in enumerate(bundle.chunks)}
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(bundle.chunks):
            rows.setdefault(c.doc_id, []).append(i)
        self.doc_rows = {d: np.asarray(r, dtype=np.int64) for d, r in rows.items()}
        vocab, idf = bundle.lexical.vocab, bundle.lexical.idf
        self.idf = {t: float(idf[i]) for t, i in vocab.items() if "_" not in t}
        self._current: str | None = None
        self.places = self._doc_places()
        self.folded_texts = _LazyFolded(bundle)
        self._parts: dict[tuple[str, tuple[str, ...]], str] = {}
        self.facts = FactIndex({d: doc.text for d, doc in bundle.documents.items()}, *_facts_of(bundle), self.idf)
        # change 2: maps built once
        self._by_number: dict[str, set[str]] = defaultdict(set)
        for d in bundle.documents.values():
            if d.meta.number:
                self._by_number[normalise_number(d.meta.number)].add(d.doc_id)
        self._localities = [(d.doc_id, repaired(d.meta.locality)) for d in bundle.documents.values()
                            if d.meta.locality]
        self._mentions: dict[str, set[str]] = {}
        self._number_seen: dict[str, bool] = {}
        # change 4: assignments grouped by plan, in their original order
        self._assignments_by_doc: dict[str, list] = defaultdict(list)
        for a in self.facts.assignments:
            self._assignments_by_doc[a.doc_id].append(a)

    # ---- change 1: candidate places by n-gram lookup -----------------------------------------------
    @property
    def places(self) -> dict[str, str]:
        if self._current is None:
            return self._all_places
        folded = re.sub(r"\s+", " ", repaired(nfc(self._current).strip()))
        toks = _TOKEN_RE.findall(folded)
        grams = {tuple(toks[i:i + n]) for n in range(1, self._max_place_len + 1) for i in range(len(toks) - n + 1)}
        return {p: self._all_places[p] for g in grams for p in self._place_index.get(g, ())}

    @places.setter
    def places(self, value: dict[str, str]) -> None:
        self._all_places = value
        self._place_index: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for p in value:
            self._place_index[tuple(_TOKEN_RE.findall(p))].append(p)
        self._max_place_len = max((len(k) for k in self._place_index), default=1)

    def ask(self, question: str, *args: Any, **kwargs: Any) -> Any:
        self._current = question
        try:
            return super().ask(question, *args, **kwargs)
        finally:
            self._current = None

    def search(self, question: str, *args: Any, **kwargs: Any) -> Any:
        self._current = question
        try:
            return super().search(question, *args, **kwargs)
        finally:
            self._current = None

    # ---- change 2: scope without walking every plan ------------------------------------------------
    def scope(self, q: Query) -> tuple[list[str] | None, str | None]:
        scoped: set[str] = set()
        for num in q.numbers:
            hits = self._by_number.get(num, set())
            if hits:
                scoped |= hits
            elif not self._number_mentioned(num):
                return None, f"không có văn bản số {_as_typed(q, num)} trong kho"
        for place in q.places:
            hits = {doc_id for doc_id, loc in self._localities if place in loc}
            if not hits:
                hits = self._docs_mentioning(place)
            if not hits:
                return None, f"không có kế hoạch nào của/nhắc đến {_as_typed(q, place)} trong kho"
            scoped |= hits
        return (sorted(scoped) if scoped else None), None

    def _candidate_docs(self, text: str, skip_first: bool = False) -> set[str] | None:
        """Plans whose chunks hold every term of ``text`` (a superset of the plans containing it); None when
        the text has no usable term."""
        toks = terms(text)
        words = [t for t in toks if "_" not in t]
        if skip_first:
            words = words[1:]
        keys = [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)] or words
        if not keys:
            return None
        lex, chunks = self.bundle.lexical, self.bundle.chunks
        found: set[str] | None = None
        for key in keys:
            col = lex.vocab.get(key)
            if col is None:
                return set()
            rows = lex.weights.indices[lex.weights.indptr[col]:lex.weights.indptr[col + 1]]
            docs = {chunks[r].doc_id for r in rows}
            found = docs if found is None else found & docs
        return found

    def _docs_mentioning(self, place: str) -> set[str]:
        if place not in self._mentions:
            cands = self._candidate_docs(place)
            pool = self.bundle.documents if cands is None else cands
            self._mentions[place] = {d for d in pool if re.search(rf"\b{place}\b", self.folded_texts[d])}
        return self._mentions[place]

    def _number_mentioned(self, num: str) -> bool:
        if num not in self._number_seen:
            cands = self._candidate_docs(num, skip_first=True)  # "107-kh/tu" also holds "07-kh/tu"
            pool = self.bundle.documents if cands is None else cands
            self._number_seen[num] = any(num.replace("/", " / ") in self.folded_texts[d] or num in
                                         self.folded_texts[d] for d in pool)
        return self._number_seen[num]

    # ---- changes 4 and 5 ----------------------------------------------------------------------------
    def _chunk_ranks(self, hits: list) -> dict[tuple[str, int], int]:
        ranks: dict[tuple[str, int], int] = {}
        for rank, h in enumerate(hits[:10]):
            c = self.by_id[h.chunk_id]
            for a in self._assignments_by_doc.get(c.doc_id, ()):
                if c.start <= a.start < c.end:
                    ranks.setdefault((a.doc_id, a.start), rank)
        return ranks

    def _chunk_at(self, doc_id: str, offset: int) -> Chunk | None:
        chunks = self.bundle.chunks
        return next((chunks[i] for i in self.doc_rows.get(doc_id, ()) if chunks[i].start <= offset < chunks[i].end),
                    None)
