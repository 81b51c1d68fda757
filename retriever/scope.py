"""Scope stage: the plans a question names (by document number or place) and the caller's filter → the plans
to answer from, or a reason to abstain."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from index.lexical import terms
from ingest import docnumber
from ingest.textnorm import repaired
from retriever.corpus import Corpus
from retriever.place_scope import PlaceScope
from retriever.query import PlaceMatcher, Query, normalise_number, place_matcher
from retriever.titles import TitleMatcher, title_matcher

_LEVEL_WORDS = ("xã", "tỉnh", "phường", "huyện")  # administrative-level words dropped to get a locality's name


@dataclass(frozen=True)
class Scope:
    docs: list[str] | None  # the plans to answer from; None = every plan
    reason: str | None = None  # set: abstain, saying why (an unknown plan number or place)
    note: str | None = None  # said before the answer (a merged province answered from its successor's plans)


class ScopeResolver:
    """Look-ups built once: plans by number, plans by locality, and per-question caches of text searches."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.places: PlaceMatcher = place_matcher(_doc_places(corpus))
        self.titles: TitleMatcher = title_matcher(corpus.documents.values())  # named acts, by their title
        self.by_number: dict[str, set[str]] = {}
        self._numbers: list[tuple[str, docnumber.DocNumber]] = []  # (doc_id, parsed number) for partial mentions
        for d in corpus.documents.values():
            if d.meta.number:
                self.by_number.setdefault(normalise_number(d.meta.number), set()).add(d.doc_id)
                parsed = docnumber.parse(d.meta.number)
                if parsed:
                    self._numbers.append((d.doc_id, parsed))
        self._localities = [(d.doc_id, repaired(d.meta.locality)) for d in corpus.documents.values()
                            if d.meta.locality]
        self._mentions: dict[str, set[str]] = {}
        self._number_seen: dict[str, bool] = {}
        self.gazetteer_places = PlaceScope(corpus, self.docs_mentioning)

    def resolve(self, q: Query, doc_ids: Collection[str] | None) -> Scope:
        """The question's own scope, then the caller's filter (which must name indexed plans)."""
        named = self.named(q)
        if named.reason:
            return named
        docs = self.restrict(named.docs, doc_ids)
        if docs == []:
            return Scope(None, "không có văn bản nào trong phạm vi đã lọc")
        return Scope(docs, note=named.note)

    def named(self, q: Query) -> Scope:
        """Documents the question names (by number or place); or a reason to abstain."""
        scoped: set[str] = set()
        for num in q.numbers:
            hits = self.by_number.get(num, set())
            if hits:
                scoped |= hits
            elif not self.number_mentioned(num):
                return Scope(None, f"không có văn bản số {as_typed(q, num)} trong kho")
        for num in q.cited:  # "… thực hiện Nghị quyết 72-NQ/TW": some plan must cite it, or hold it
            if not (self.by_number.get(num) or self.number_mentioned(num)):
                return Scope(None, f"không có văn bản nào thực hiện văn bản số {as_typed(q, num)} trong kho")
        for mention in q.partial:  # "kế hoạch 165": the plans whose number has that serial (and kind)
            scoped |= {doc_id for doc_id, n in self._numbers if mention.matches(n)}
        places = self.places_named(q)
        if places.reason:
            return places
        scoped |= set(places.docs or ())
        scoped |= self.titles.named_docs(q.text)  # "theo Luật Cư trú": that act's articles (never abstains)
        return Scope(sorted(scoped) if scoped else None, note=places.note)

    def places_named(self, q: Query) -> Scope:
        """Plans of the places the question names: gazetteer places by their plans' own areas
        (:mod:`retriever.place_scope`), then bare names of indexed plans' localities ("Hà Đông")."""
        scoped: set[str] = set()
        covered: set[str] = set()
        note = None
        for m in self.gazetteer_places.mentions(q.text):
            found = self.gazetteer_places.plans_of(m)
            if found.reason:
                return Scope(None, found.reason)
            scoped |= found.docs
            note = note or found.note
            covered |= {m.key, repaired(m.name)}
        for place in q.places:
            if any(f" {place} " in f" {c} " for c in covered):
                continue
            hits = {doc_id for doc_id, loc in self._localities if place in loc} or self.docs_mentioning(place)
            if not hits:
                return Scope(None, f"kho văn bản không có kế hoạch nào của/nhắc đến {as_typed(q, place)}")
            scoped |= hits
        return Scope(sorted(scoped), note=note)

    def restrict(self, docs: list[str] | None, doc_ids: Collection[str] | None) -> list[str] | None:
        """The question's own scope intersected with a caller's filter (UI filters, API)."""
        if doc_ids is None:
            return docs
        unknown = set(doc_ids) - set(self.corpus.documents)
        if unknown:
            raise ValueError(f"unknown document ids {sorted(unknown)}; see GET /api/documents")
        allowed = set(doc_ids)
        return sorted(allowed if docs is None else set(docs) & allowed)

    def candidate_docs(self, text: str, skip_first: bool = False) -> set[str] | None:
        """Plans whose chunks hold every word pair of ``text`` (a superset of the plans printing it), from the
        lexical index's columns; None when ``text`` has no usable term (then every plan is a candidate)."""
        words = [t for t in terms(text) if "_" not in t][1 if skip_first else 0:]
        keys = [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)] or words
        if not keys:
            return None
        lex, chunks = self.corpus.bundle.lexical, self.corpus.chunks
        found: set[str] | None = None
        for key in keys:
            col = lex.vocab.get(key)
            if col is None:
                return set()
            docs = {chunks[r].doc_id for r in lex.weights.indices[lex.weights.indptr[col]:lex.weights.indptr[col + 1]]}
            found = docs if found is None else found & docs
        return found

    def docs_mentioning(self, place: str) -> set[str]:
        """Plans whose text names ``place`` (folded), confirmed by regex on the candidates only; cached."""
        if place not in self._mentions:
            cands = self.candidate_docs(place)
            pool = self.corpus.documents if cands is None else sorted(cands)
            folded = self.corpus.folded_texts
            self._mentions[place] = {d for d in pool if re.search(rf"\b{place}\b", folded[d])}
        return self._mentions[place]

    def number_mentioned(self, key: str) -> bool:
        """Whether any plan prints the document number of ``key`` (e.g. cites a plan that is not indexed), with
        any separators ("65/2017/NĐ CP" is 65/2017/NĐ-CP): candidates from the lexical index; cached."""
        if key not in self._number_seen:
            cands = self.candidate_docs(key, skip_first=True)  # the serial's own term may be glued or OCR-read
            pool = self.corpus.documents if cands is None else sorted(cands)
            printed = _printed_number_re(key)
            folded = self.corpus.folded_texts
            self._number_seen[key] = any(printed.search(folded[d]) for d in pool)
        return self._number_seen[key]


def _printed_number_re(key: str) -> re.Pattern[str]:
    """The folded number of ``key`` as a plan may print it: leading zeros, and any short run of spaces or
    punctuation between its parts ("07 - KH / TU", "65/2017/ND CP")."""
    parts = re.findall(r"[a-z]+|\d+", key)
    return re.compile(r"(?<![\w/])0*" + r"[\s\W_]{0,3}".join(map(re.escape, parts)) + r"(?![a-z0-9])")


def _doc_places(corpus: Corpus) -> dict[str, str]:
    """Folded locality name → locality as printed, for every indexed plan that has one."""
    out = {}
    for d in corpus.documents.values():
        loc = d.meta.locality
        if loc:
            name = loc.split(" ", 1)[1] if loc.split(" ", 1)[0] in _LEVEL_WORDS else loc
            out[re.sub(r"\s+", " ", repaired(name)).strip()] = name
    return out


def as_typed(q: Query, folded_name: str) -> str:
    """The user's own spelling of a folded place or number found in the question ("Lào Cai", not "Lao Cai")."""
    if folded_name in q.typed:
        return q.typed[folded_name]
    at = q.folded.find(folded_name)
    if at < 0 or len(q.folded) != len(q.text):
        return folded_name.title() if " " in folded_name else folded_name.upper()
    return q.text[at: at + len(folded_name)]
