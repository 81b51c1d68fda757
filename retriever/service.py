"""The one public entry point used by the CLI, the API, the UI and the evaluators."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from index.encoder import Encoder
from index.lexical import terms
from index.store import IndexBundle, check_encoder, index_text
from ingest.records import Chunk
from ingest.targets import BY_KEY
from ingest.textnorm import collapse_ws, repaired, search_tokens
from retriever.answer import (
    ABSTAIN_TEXT,
    STOPWORDS,
    Answer,
    Citation,
    citation_header,
    content_terms,
    lead_agency,
    overlap_score,
    sentences,
)
from retriever.facts import FactIndex, agencies_named, question_indicators, target_label
from retriever.fusion import Hit
from retriever.fuzzy import near_any
from retriever.query import Query, analyse, normalise_number, place_matcher
from retriever.search import HybridSearcher, HybridSettings

log = logging.getLogger("retriever")


@dataclass
class AnswerSettings:
    min_coverage: float = 0.3  # share of the question's topic (IDF mass) found in the best passage …
    min_dense: float = 0.83  # … or cosine of the best passage; either one lets the answer checks run
    k: int = 5


class Retriever:
    """Question → grounded :class:`Answer` with citations, or an abstention with none."""

    def __init__(self, bundle: IndexBundle, encoder: Encoder, hybrid: HybridSettings | None = None,
                 answer: AnswerSettings | None = None) -> None:
        check_encoder(bundle, encoder)
        self.bundle, self.encoder = bundle, encoder
        self.searcher = HybridSearcher(bundle, encoder, hybrid)
        self.settings = answer or AnswerSettings()
        self.by_id: dict[str, Chunk] = {c.chunk_id: c for c in bundle.chunks}
        self.row: dict[str, int] = {c.chunk_id: i for i, c in enumerate(bundle.chunks)}
        self.doc_rows: dict[str, np.ndarray] = {}
        for i, c in enumerate(bundle.chunks):
            self.doc_rows.setdefault(c.doc_id, []).append(i)  # type: ignore[arg-type]
        self.doc_rows = {d: np.asarray(r, dtype=np.int64) for d, r in self.doc_rows.items()}
        vocab, idf = bundle.lexical.vocab, bundle.lexical.idf
        self.idf = {t: float(idf[i]) for t, i in vocab.items() if "_" not in t}
        self.places = place_matcher(self._doc_places())
        self.folded_texts = _FoldedTexts(bundle)
        self._parts: dict[tuple[str, tuple[str, ...]], str] = {}
        self.facts = FactIndex({d: doc.text for d, doc in bundle.documents.items()}, *_facts_of(bundle), self.idf)
        # scope look-ups, built once: plans by number, localities, and per-question caches of text searches
        self._by_number: dict[str, set[str]] = {}
        for d in bundle.documents.values():
            if d.meta.number:
                self._by_number.setdefault(normalise_number(d.meta.number), set()).add(d.doc_id)
        self._localities = [(d.doc_id, repaired(d.meta.locality)) for d in bundle.documents.values()
                            if d.meta.locality]
        self._mentions: dict[str, set[str]] = {}
        self._number_seen: dict[str, bool] = {}
        self._signatures: dict[str, str] = {}

    def _doc_places(self) -> dict[str, str]:
        out = {}
        for d in self.bundle.documents.values():
            loc = d.meta.locality
            if loc:
                name = loc.split(" ", 1)[1] if loc.split(" ", 1)[0] in ("xã", "tỉnh", "phường", "huyện") else loc
                out[re.sub(r"\s+", " ", repaired(name)).strip()] = name
        return out

    # ---- scope -------------------------------------------------------------------------------
    def scope(self, q: Query) -> tuple[list[str] | None, str | None]:
        """Documents the question names (by number or place); or a reason to abstain."""
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
        """Plans whose chunks hold every word pair of ``text`` (a superset of the plans printing it), from the
        lexical index's columns; None when ``text`` has no usable term (then every plan is a candidate)."""
        words = [t for t in terms(text) if "_" not in t][1 if skip_first else 0:]
        keys = [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)] or words
        if not keys:
            return None
        lex, chunks = self.bundle.lexical, self.bundle.chunks
        found: set[str] | None = None
        for key in keys:
            col = lex.vocab.get(key)
            if col is None:
                return set()
            docs = {chunks[r].doc_id for r in lex.weights.indices[lex.weights.indptr[col]:lex.weights.indptr[col + 1]]}
            found = docs if found is None else found & docs
        return found

    def _docs_mentioning(self, place: str) -> set[str]:
        """Plans whose text names ``place`` (folded), confirmed by regex on the candidates only; cached."""
        if place not in self._mentions:
            cands = self._candidate_docs(place)
            pool = self.bundle.documents if cands is None else sorted(cands)
            self._mentions[place] = {d for d in pool if re.search(rf"\b{place}\b", self.folded_texts[d])}
        return self._mentions[place]

    def _number_mentioned(self, num: str) -> bool:
        """Whether any plan prints document number ``num`` (e.g. cites a plan that is not indexed); cached."""
        if num not in self._number_seen:
            cands = self._candidate_docs(num, skip_first=True)  # "07-kh/tu" may be printed inside "107-kh/tu"
            pool = self.bundle.documents if cands is None else sorted(cands)
            self._number_seen[num] = any(num.replace("/", " / ") in self.folded_texts[d] or num in self.folded_texts[d]
                                         for d in pool)
        return self._number_seen[num]

    # ---- main entry --------------------------------------------------------------------------
    def _restrict(self, docs: list[str] | None, doc_ids: Collection[str] | None) -> list[str] | None:
        """The question's own scope intersected with a caller's filter (UI filters, API)."""
        if doc_ids is None:
            return docs
        unknown = set(doc_ids) - set(self.bundle.documents)
        if unknown:
            raise ValueError(f"unknown document ids {sorted(unknown)}; see GET /api/documents")
        allowed = set(doc_ids)
        return sorted(allowed if docs is None else set(docs) & allowed)

    def search(self, question: str, k: int = 5, doc_ids: Collection[str] | None = None) -> list[Hit]:
        q = analyse(question, self.places)
        docs, _ = self.scope(q)
        docs = self._restrict(docs, doc_ids)
        if docs == []:
            return []
        rows = np.concatenate([self.doc_rows[d] for d in docs]) if docs else None
        return self.searcher.search(q.text, k, rows=rows, lexical_query=q.search)

    def ask(self, question: str, k: int | None = None, qid: str | None = None,
            doc_ids: Collection[str] | None = None) -> Answer:
        """Answer ``question`` from the indexed plans (optionally only from ``doc_ids``), or abstain."""
        t0 = time.perf_counter()
        k = k or self.settings.k
        if not question or not question.strip():
            raise ValueError("the question is empty; type a question in Vietnamese")
        q = analyse(question, self.places)
        docs, reason = self.scope(q)
        if reason:
            return self._abstain(q, qid, reason)
        docs = self._restrict(docs, doc_ids)
        if docs == []:
            return self._abstain(q, qid, "không có văn bản nào trong phạm vi đã lọc")
        rows = np.concatenate([self.doc_rows[d] for d in docs]) if docs else None
        qvec = self.encoder.encode_queries([q.text])[0]
        hits = self.searcher.search(q.text, max(k, 10), rows=rows, lexical_query=q.search, qvec=qvec)
        if not hits:
            return self._abstain(q, qid, "không có đoạn văn nào khớp")
        relevant, why = self._relevant(q, hits, qvec)
        if not relevant:
            return self._abstain(q, qid, why)
        answer = self._compose(q, hits, docs, k, qid, qvec)
        log.info("answered", extra={"ms": round((time.perf_counter() - t0) * 1000, 1), "intent": answer.intent,
                                    "abstained": answer.abstained, "top": hits[0].chunk_id})
        return answer

    def _abstain(self, q: Query, qid: str | None, reason: str | None) -> Answer:
        text = ABSTAIN_TEXT + (f" ({reason})" if reason else "")
        return Answer(question=q.text, answer=text, abstained=True, citations=(), id=qid, intent=q.intents[0])

    def _relevant(self, q: Query, hits: list[Hit], qvec: np.ndarray) -> tuple[bool, str | None]:
        """A loose topical gate; the answer-type checks in :meth:`_validate` do the precise work."""
        qt = set(content_terms(q.text))
        if not qt or "meta" in q.intents:
            return True, None
        total = sum(self.idf.get(t, 1.0) for t in qt)
        best_cov, best_dense = 0.0, 0.0
        for h in hits[:5]:
            c = self.by_id[h.chunk_id]
            text = index_text(self.bundle.documents[c.doc_id].meta, c)
            best_cov = max(best_cov, overlap_score(qt, self.idf, text) / total)
            best_dense = max(best_dense, float(self.bundle.vectors[self.row[h.chunk_id]] @ qvec))
        ok = best_cov >= self.settings.min_coverage or best_dense >= self.settings.min_dense
        return ok, None if ok else "các đoạn gần nhất không nói đến nội dung này"

    # ---- composition -------------------------------------------------------------------------
    def _citation(self, rank: int, hit: Hit) -> Citation:
        c = self.by_id[hit.chunk_id]
        d = self.bundle.documents[c.doc_id]
        m = d.meta
        return Citation(rank=rank, chunk_id=c.chunk_id, doc_id=c.doc_id, doc_number=m.number, doc_type=m.doc_type,
                        issuer=m.issuer, date=m.date, source_file=d.source_file, section=c.section, text=c.text,
                        score=round(hit.score, 6), start=c.start, end=c.end)

    def _cite(self, first: list[Hit], hits: list[Hit], k: int) -> tuple[Citation, ...]:
        seen, ordered = set(), []
        for h in first + hits:
            if h.chunk_id not in seen:
                seen.add(h.chunk_id)
                ordered.append(h)
        return tuple(self._citation(i + 1, h) for i, h in enumerate(ordered[:k]))

    def _compose(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int, qid: str | None,
                 qvec: np.ndarray | None = None) -> Answer:
        intent = q.intents[0]
        if "meta" in q.intents:
            return self._meta_answer(q, hits, docs, k, qid)
        if q.person_title:
            return self._person_answer(q, hits, docs, k, qid)
        structured = self._structured_answer(q, hits, docs, k, qid)
        if structured is not None:
            return structured
        if docs and len(docs) > 1 and (len(q.places) + len(q.numbers)) > 1:
            return self._cross_doc_answer(q, hits, docs, k, qid, qvec)
        picks = self._best_windows(q, hits[:5], per_doc=False)
        if not picks:
            return self._abstain(q, qid, "không có câu nào trả lời đúng loại thông tin được hỏi")
        hit, window = picks[0]
        chunk = self.by_id[hit.chunk_id]
        lead_in = ""
        if intent in ("lead", "coordination"):
            agency = lead_agency(window, chunk.section_path[-1] if chunk.section_path else None)
            if agency:
                lead_in = f"Cơ quan chủ trì: {agency}. "
        cits = self._cite([hit], hits, k)
        text = f"{lead_in}Theo {citation_header(cits[0])}, mục {chunk.section}: “{collapse_ws(window)}”"
        return Answer(question=q.text, answer=text, abstained=False, citations=cits, id=qid, intent=intent,
                      evidence=window)

    # ---- structured facts: assignments and targets ---------------------------------------------
    def _structured_answer(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int,
                           qid: str | None) -> Answer | None:
        intents = set(q.intents)
        if "amount" in intents or q.asks_current or q.asks_exact_date:
            return None  # neither assignments nor targets hold money, the present state or exact dates
        if intents & {"lead", "coordination", "deadline"}:
            listed = self._agency_tasks(q, hits, docs, k, qid)
            if listed is not None:
                return listed
            if docs and len(docs) > 1 and len(q.places) + len(q.numbers) > 1:
                return self._assignments_per_doc(q, hits, docs, k, qid)
            found = self._assignment_answer(q, hits, docs, k, qid)
            if found is not None:
                return found
        if "target" in intents and question_indicators(q.folded):
            return self._target_answer(q, hits, docs, k, qid)
        return None

    def _chunk_at(self, doc_id: str, offset: int) -> Chunk | None:
        """The first chunk of ``doc_id`` that holds character ``offset``."""
        chunks = self.bundle.chunks
        return next((chunks[i] for i in self.doc_rows.get(doc_id, ()) if chunks[i].start <= offset < chunks[i].end),
                    None)

    def _chunk_ranks(self, hits: list[Hit]) -> dict[tuple[str, int], int]:
        """(plan, start) of each assignment held by one of the top 10 hits → the best rank of such a hit."""
        ranks: dict[tuple[str, int], int] = {}
        for rank, h in enumerate(hits[:10]):
            c = self.by_id[h.chunk_id]
            for a in self.facts.of_doc(c.doc_id):
                if c.start <= a.start < c.end:
                    ranks.setdefault((a.doc_id, a.start), rank)
        return ranks

    def _best_assignment(self, q: Query, hits: list[Hit], docs: list[str] | None):
        ranked = self.facts.match_assignments(q.expanded, q.places, docs, self._chunk_ranks(hits),
                                              rows=_row_labels(q.folded), limit=1)
        if not ranked or ranked[0].score < _MIN_ASSIGNMENT_MATCH:
            return None
        a = ranked[0].record
        if q.intents[0] == "deadline" and not a.deadline:
            return None
        return a

    def _assignments_per_doc(self, q: Query, hits: list[Hit], docs: list[str], k: int,
                             qid: str | None) -> Answer | None:
        """A lead/coordination question about several plans: the best assignment of each."""
        lines, firsts = [], []
        for doc_id in docs:
            a = self._best_assignment(q, hits, [doc_id])
            if a is None:
                continue
            d = self.bundle.documents[doc_id]
            head = _plan_label(d.meta)
            lines.append(f"- {head}, mục {' › '.join(a.section_path)}: {_describe_assignment(a)}")
            c = self._chunk_at(a.doc_id, a.start)
            if c:
                firsts.append(Hit(c.chunk_id, 1.0))
        if not lines:
            return None
        cits = self._cite(firsts, hits, max(k, len(firsts)))
        return Answer(question=q.text, answer="\n".join(lines), abstained=False, citations=cits, id=qid,
                      intent=q.intents[0], evidence=None)

    def _assignment_answer(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int,
                           qid: str | None) -> Answer | None:
        a = self._best_assignment(q, hits, docs)
        if a is None:
            return None
        lines = [_describe_assignment(a)]
        src = self.bundle.documents[a.doc_id]
        quote = collapse_ws(src.text[a.start:a.end])
        c = self._chunk_at(a.doc_id, a.start)
        first = [Hit(c.chunk_id, 1.0)] if c else []
        cits = self._cite(first, hits, k)
        header = citation_header(self._citation(0, first[0])) if first else src.meta.doc_type
        lines.append(f"Nguồn: {header}, mục {' › '.join(a.section_path)}: “{_clip(quote, 420)}”")
        facts = {"kind": "assignment", "doc_id": a.doc_id, "lead": list(a.lead), "coordinating": list(a.coordinating),
                 "deadline": a.deadline, "task": collapse_ws(a.task), "section": " › ".join(a.section_path),
                 "confidence": a.confidence}
        return Answer(question=q.text, answer="\n".join(lines), abstained=False, citations=cits, id=qid,
                      intent=q.intents[0], evidence=src.text[a.start:a.end], facts=facts)

    def _agency_tasks(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int,
                      qid: str | None) -> Answer | None:
        """"Sở Y tế chủ trì những nhiệm vụ nào?": every assignment the named agency leads."""
        which_plans = re.search(r"\b(nhung|cac) (ke hoach|van ban|chuong trinh)( cap xa)? nao\b", q.folded)
        if not which_plans and not re.search(
                r"\b(nhung nhiem vu|nhiem vu nao|nhiem vu gi|nhung viec|viec gi|cac nhiem vu)\b", q.folded):
            return None
        agencies = agencies_named(q.text)
        if not agencies:
            return None
        tasks = self.facts.by_agency(agencies[0], docs)
        if not tasks:
            return self._abstain(q, qid, f"không có nhiệm vụ nào giao {agencies[0]} chủ trì trong phạm vi hỏi")
        plans = list(dict.fromkeys(a.doc_id for a in tasks))
        lines = [f"{agencies[0]} chủ trì {len(tasks)} nhiệm vụ trong {len(plans)} văn bản: " + "; ".join(
            f"{self.bundle.documents[p].meta.doc_type} của {self.bundle.documents[p].meta.issuer}" for p in plans)]
        firsts: list[Hit] = []
        for a in tasks[:12]:
            d = self.bundle.documents[a.doc_id]
            lines.append(f"- {_clip(collapse_ws(a.task), 160)} ({d.meta.doc_type} "
                         f"{'số ' + d.meta.number if d.meta.number else '(chưa ghi số)'}, mục "
                         f"{' › '.join(a.section_path)}" + (f"; thời hạn: {a.deadline}" if a.deadline else "") + ")")
            c = self._chunk_at(a.doc_id, a.start)
            if c:
                firsts.append(Hit(c.chunk_id, 1.0))
        if len(tasks) > 12:
            lines.append(f"… và {len(tasks) - 12} nhiệm vụ khác (xem `kehoach assignments`).")
        cits = self._cite(firsts, hits, max(k, min(len(firsts), 12)))
        return Answer(question=q.text, answer="\n".join(lines), abstained=False, citations=cits, id=qid,
                      intent="lead", evidence=None)

    def _target_answer(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int,
                       qid: str | None) -> Answer | None:
        targets = self.facts.match_targets(q.folded, docs, q.years)
        if not targets:
            return None
        if not docs:  # no plan named: take the plans of the best passages
            top_docs = list(dict.fromkeys(self.by_id[h.chunk_id].doc_id for h in hits[:3]))
            targets = [t for t in targets if t.doc_id == top_docs[0]] or targets
        quotes = {id(t): self._sentence_around(t.doc_id, t.start, t.end) for t in targets}
        if not self._target_fits(q, targets, quotes):
            return None
        lines, firsts = [], []
        for doc_id in dict.fromkeys(t.doc_id for t in targets):
            d = self.bundle.documents[doc_id]
            for t in _distinct_targets([t for t in targets if t.doc_id == doc_id])[:3]:
                quote = collapse_ws(quotes[id(t)])
                head = _plan_label(d.meta)
                lines.append(f"- {head}: {target_label(t)} {_show_value(t.value)} {t.unit} ({_period(t.period)}); mục "
                             f"{' › '.join(t.section_path)}: “{_clip(quote, 300)}”")
                c = self._chunk_at(doc_id, t.start)
                if c:
                    firsts.append(Hit(c.chunk_id, 1.0))
        cits = self._cite(firsts, hits, max(k, len(set(h.chunk_id for h in firsts))))
        facts = {"kind": "targets", "targets": [
            {"doc_id": t.doc_id, "indicator": t.indicator, "label": target_label(t), "value": t.value,
             "unit": t.unit, "period": t.period} for t in targets]}
        return Answer(question=q.text, answer="\n".join(lines), abstained=False, citations=cits, id=qid,
                      intent="target", evidence=quotes[id(targets[0])], facts=facts)

    def _sentence_around(self, doc_id: str, start: int, end: int) -> str:
        """The sentence(s) of the passage that hold ``[start, end)``, as printed."""
        c = self._chunk_at(doc_id, start)
        if c is None:
            return self.bundle.documents[doc_id].text[start:end]
        a, b = start - c.start, end - c.start
        spans = [s for s in sentences(c.text) if s.start < b and a < s.end]
        lo = min((s.start for s in spans), default=a)
        hi = max((s.end for s in spans), default=b)
        if hi - lo > 320 or a - lo > 200:  # a table row, not prose: take the row's own lines
            lo = c.text.rfind("\n", 0, a) + 1
            nl = c.text.find("\n", b)
            hi = len(c.text) if nl < 0 else nl
        return c.text[lo:hi].strip()

    def _target_fits(self, q: Query, targets: list, quotes: dict[int, str]) -> bool:
        """The question asks about the indicator itself, not about a task that merely mentions it
        ("luân phiên bác sĩ …" is not a question about the number of doctors)."""
        label_words = set()
        for t in targets:
            label_words |= set(search_tokens(target_label(t) + " " + BY_KEY[t.indicator].label))
        question = _DOC_NUMBER_RE.sub(" ", q.expanded)
        extra = self.facts.topic_words(question, q.places) - label_words - _TOPIC_EXCLUDE
        if not extra:
            return True
        best = 0.0
        total = sum(self.idf.get(w, 1.0) for w in extra)
        for t in targets:
            doc = self.bundle.documents[t.doc_id].text
            have = set(search_tokens(quotes[id(t)] + " " + doc[max(0, t.start - 200): t.end + 50]))
            ocr = self.bundle.documents[t.doc_id].meta.ocr
            best = max(best, sum(self.idf.get(w, 1.0) for w in extra
                                 if w in have or (ocr and near_any(w, have, min_len=4))) / total)
        return best >= 0.5

    def _cross_doc_answer(self, q: Query, hits: list[Hit], docs: list[str], k: int, qid: str | None,
                          qvec: np.ndarray | None = None) -> Answer:
        """One quoted passage per plan the question names, so plans can be compared."""
        parts, firsts = [], []
        for doc_id in docs:
            doc_hits = [h for h in hits if self.by_id[h.chunk_id].doc_id == doc_id][:3]
            if not doc_hits:
                rows = self.doc_rows[doc_id]
                doc_hits = self.searcher.search(q.text, 3, rows=rows, lexical_query=q.search, qvec=qvec)
            picks = self._best_windows(q, doc_hits, per_doc=False)
            if not picks:
                continue
            hit, window = picks[0]
            c = self.by_id[hit.chunk_id]
            firsts.append(hit)
            parts.append(f"{citation_header(self._citation(0, hit))} (mục {c.section}): “{collapse_ws(window)}”")
        if not parts:
            return self._abstain(q, qid, "không có câu nào trả lời đúng loại thông tin được hỏi")
        cits = self._cite(firsts, hits, max(k, len(firsts)))
        return Answer(question=q.text, answer="So sánh giữa các văn bản:\n" + "\n".join(f"- {p}" for p in parts),
                      abstained=False, citations=cits, id=qid, intent="cross_doc", evidence=None)

    def _best_windows(self, q: Query, hits: list[Hit], per_doc: bool) -> list[tuple[Hit, str]]:
        """Best one- or two-sentence windows of the top passages that pass the answer-type checks."""
        qt = set(terms(q.text)) - {t for t in terms(q.text) if t in _GENERIC}
        bonus_terms = _INTENT_TERMS.get(q.intents[0], ())
        scored: list[tuple[float, int, Hit, str]] = []
        for rank, h in enumerate(hits):
            c = self.by_id[h.chunk_id]
            ocr = self.bundle.documents[c.doc_id].meta.ocr
            sents = sentences(c.text)
            for i, s in enumerate(sents):
                window = s.text if i + 1 >= len(sents) else c.text[s.start: sents[i + 1].end]
                one = self._window_score(q, qt, s.text, rank, bonus_terms)
                two = self._window_score(q, qt, window, rank, bonus_terms) * 0.92
                text = s.text if one >= two or len(s.text) > 400 else window
                score = max(one, two)
                if score > 0 and self._validate(q, text, c, ocr):
                    scored.append((score, rank, h, text))
        scored.sort(key=lambda x: (-x[0], x[1], x[2].chunk_id))
        return [(h, t) for _, _, h, t in scored]

    def _window_score(self, q: Query, qt: set[str], text: str, rank: int, bonus_terms: tuple[str, ...]) -> float:
        score = overlap_score(qt, self.idf, text) / (1 + 0.15 * rank)
        rep = repaired(text)
        if any(b in rep for b in bonus_terms):
            score *= 1.3
        if q.intents[0] in ("target", "deadline") and re.search(r"\d", rep):
            score *= 1.25
        if len(text) < 25:
            score *= 0.5
        return score

    def _validate(self, q: Query, text: str, chunk: Chunk, ocr: bool) -> bool:
        """Answer-type checks: a quoted window must hold the kind of fact the question asks for."""
        rep = repaired(text)
        if "amount" in q.intents and not re.search(r"\d[\d.,]*\s*(?:ty|trieu|nghin)\s*dong", rep):
            return False
        if q.asks_current and not re.search(r"(?<!thuc )\b(hien nay|hien tai|hien co)\b", rep):
            return False
        if q.asks_exact_date and not re.search(r"\d{1,2}/\d{1,2}(/\d{4})?|ngay \d{1,2}", rep):
            return False
        if q.years and any(y not in self._part_text(chunk) for y in q.years):
            return False
        factual = q.intents[0] in ("target", "deadline", "amount") or q.asks_exact_date or q.asks_current
        if factual and self._topic_coverage(q, rep, ocr) < 0.25:
            return False
        if q.intents[0] == "target":
            at = chunk.text.find(text)
            around = chunk.text[max(0, at - 200): at + len(text) + 50] if at >= 0 else text
            if not re.search(r"\d", rep) or self._topic_coverage(q, repaired(around), ocr) < 0.5:
                return False
        return True

    def _part_text(self, chunk: Chunk) -> str:
        """Folded text of the top-level part (e.g. "II. MỤC TIÊU", "PHỤ LỤC") holding the chunk."""
        key = (chunk.doc_id, chunk.section_path[:1])
        if key not in self._parts:
            doc = self.bundle.documents[chunk.doc_id]
            spans = [(s.start, s.end) for s in doc.sections if s.path == chunk.section_path[:1]]
            a, b = spans[0] if spans else (chunk.start, chunk.end)
            self._parts[key] = repaired(doc.text[a:b])
        return self._parts[key]

    def _topic_coverage(self, q: Query, rep: str, ocr: bool) -> float:
        """IDF share of the question's topic words (places, numbers, years, question words removed) in ``rep``;
        OCR text matches a word within one edit."""
        places = set(" ".join(q.places).split())
        toks = search_tokens(_DOC_NUMBER_RE.sub(" ", q.expanded))
        keep = [t for t in toks if t not in _TOPIC_EXCLUDE and t not in STOPWORDS and t not in places
                and len(t) > 1 and not any(ch.isdigit() for ch in t)]
        words = set(keep)
        if not words:
            return 1.0
        have_list = re.findall(r"[a-z0-9]+", rep)
        have = set(have_list)
        total = sum(self.idf.get(t, 1.0) for t in words)
        uni = sum(self.idf.get(t, 1.0) for t in words if t in have or (ocr and near_any(t, have))) / total
        pairs = {f"{a}_{b}" for a, b in zip(toks, toks[1:], strict=False) if a in words and b in words}
        if ocr or not pairs:
            return uni
        have_pairs = {f"{a}_{b}" for a, b in zip(have_list, have_list[1:], strict=False)}
        return 0.5 * uni + 0.5 * sum(p in have_pairs for p in pairs) / len(pairs)

    def _meta_answer(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int, qid: str | None) -> Answer:
        missing = [n for n in q.numbers if n not in self._by_number]
        if missing:
            return self._abstain(q, qid, f"văn bản {missing[0].upper()} chỉ được nhắc đến, không có trong kho")
        doc_id = docs[0] if docs and len(docs) == 1 else self.by_id[hits[0].chunk_id].doc_id
        d = self.bundle.documents[doc_id]
        m = d.meta
        firsts = self._meta_chunks(doc_id)
        first = self.by_id[firsts[0].chunk_id]
        cits = self._cite(firsts, hits, k)
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
        return Answer(question=q.text, answer=text, abstained=False, citations=cits, id=qid, intent="meta",
                      evidence=first.text[:300])

    def _meta_chunks(self, doc_id: str) -> list[Hit]:
        """Chunks that print the plan's identity: header, the "… ban hành" sentence, signature, blank number."""
        d = self.bundle.documents[doc_id]
        rep = self.folded_texts[doc_id]
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
            c = self._chunk_at(doc_id, at)
            if c and all(h.chunk_id != c.chunk_id for h in out):
                out.append(Hit(c.chunk_id, 1.0))
        return out

    def _signature_block(self, doc_id: str) -> str:
        """Folded text just above the plan's signer (where the signer's title is printed); "" without one."""
        if doc_id not in self._signatures:
            d = self.bundle.documents[doc_id]
            at = d.text.rfind(d.meta.signer) if d.meta.signer else -1
            self._signatures[doc_id] = repaired(d.text[max(0, at - 200): at]) if at >= 0 else ""
        return self._signatures[doc_id]

    def _person_answer(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int, qid: str | None) -> Answer:
        """"Ai là Bí thư …?": answerable only from a plan's signature block."""
        for doc_id in docs or list(self.bundle.documents):
            if q.person_title in self._signature_block(doc_id):
                return self._meta_answer(q, hits, [doc_id], k, qid)
        return self._abstain(q, qid, "các kế hoạch không nêu người giữ chức vụ này")


_TARGET_GENERIC = {"cap", "dat", "muc", "tieu", "chi", "ty", "le", "tang", "giam", "them", "toi", "thieu", "den", "nam",
                   "bao", "nhieu", "phan", "dau", "ra", "duoc", "tren", "it", "nhat", "so", "tong", "ve", "moi"}
_GENERIC = {"co", "quan", "nao", "gi", "bao", "nhieu", "ai", "la", "cua", "o", "trong", "ke", "hoach", "xa", "tinh"}
_INTENT_TERMS = {
    "lead": ("chu tri", "giao "),
    "coordination": ("phoi hop",),
    "deadline": ("truoc ngay", "nam 20", "hang nam", "thuong xuyen", "den nam"),
    "target": ("%", "dat ", "tang "),
}
_TOPIC_EXCLUDE = _TARGET_GENERIC | {"dang", "uy", "thuong", "vu", "ngay", "thang", "phai", "vao", "ky", "hien",
                                    "nay", "khi", "nao", "hoan", "thanh", "bat", "tu", "luc"}
_DOC_NUMBER_RE = re.compile(r"\d{1,4}\s*-?\s*[A-Za-z]{1,4}\s*/\s*[A-Za-zĐđ]{1,6}")
_MIN_ASSIGNMENT_MATCH = 0.45  # share of the question's topic (IDF mass) an assignment's text must hold


class _FoldedTexts(dict):
    """doc_id → ``repaired(text)`` of the plan, folded on first use (folding thousands of plans at start-up
    took most of a minute at 200k chunks)."""

    def __init__(self, bundle: IndexBundle) -> None:
        super().__init__()
        self._docs = bundle.documents

    def __missing__(self, doc_id: str) -> str:
        value = repaired(self._docs[doc_id].text)
        self[doc_id] = value
        return value


def _facts_of(bundle: IndexBundle) -> tuple[list, list]:
    """Assignments and targets stored with the index, or extracted from its documents."""
    stored = getattr(bundle, "assignments", None), getattr(bundle, "targets", None)
    if stored[0] is not None and stored[1] is not None:
        return list(stored[0]), list(stored[1])
    from ingest.assignments import extract_assignments
    from ingest.records import Document
    from ingest.targets import extract_targets

    assignments, targets = [], []
    for d in bundle.documents.values():
        doc = Document(d.doc_id, d.source_file, d.text, d.meta, tuple(d.sections), d.sha256)
        assignments += extract_assignments(doc)
        targets += extract_targets(doc)
    return assignments, targets


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " …"


def _period(period: str) -> str:
    return period if not period[:1].isdigit() or "-" in period else f"đến năm {period}"


def _distinct_targets(targets: list) -> list:
    seen, out = set(), []
    for t in targets:
        key = (t.value, t.period)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _describe_assignment(a) -> str:
    lead = ", ".join(a.lead) if a.lead else "không đọc được (bản OCR)"
    parts = [f"Cơ quan chủ trì: {lead}."]
    if a.coordinating:
        parts.append(f"Phối hợp: {'; '.join(a.coordinating)}.")
    if a.deadline:
        parts.append(f"Thời hạn: {a.deadline}.")
    if a.directing:
        parts.append(f"Cấp ủy chỉ đạo: {', '.join(a.directing)}.")
    if a.confidence != "high":
        parts.append(f"(Đọc từ bản OCR, độ tin cậy: {'trung bình' if a.confidence == 'medium' else 'thấp'}.)")
    parts.append(f"Nhiệm vụ: {_clip(collapse_ws(a.task), 220)}")
    return " ".join(parts)


def _row_labels(folded_question: str) -> tuple[str, ...]:
    """Table row labels a question names: "(mục 6.1 Phụ lục 02)", "dòng 9"."""
    return tuple(re.findall(r"\b(?:muc|dong|stt|hang)\s+(\d{1,2}(?:\.\d{1,2})?)\b", folded_question))


def _plan_label(m) -> str:
    """"Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên"; a blank number says so."""
    return f"{m.doc_type} {'số ' + m.number if m.number else '(chưa ghi số)'} của {m.issuer}"


def _as_typed(q: Query, folded_name: str) -> str:
    """The user's own spelling of a folded place or number found in the question ("Lào Cai", not "Lao Cai")."""
    at = q.folded.find(folded_name)
    if at < 0 or len(q.folded) != len(q.text):
        return folded_name.title() if " " in folded_name else folded_name.upper()
    return q.text[at: at + len(folded_name)]


def _show_value(value: str) -> str:
    """">=75,5" → "≥75,5", "<=5" → "≤5" (values stay as printed otherwise)."""
    return value.replace(">=", "≥").replace("<=", "≤")
