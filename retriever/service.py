"""The one public entry point used by the CLI, the API, the UI and the evaluators."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import numpy as np

from index.encoder import Encoder
from index.lexical import terms
from index.store import IndexBundle, check_encoder, index_text
from ingest.metadata import repaired
from ingest.records import Chunk
from ingest.textnorm import collapse_ws, fold
from retriever.answer import (
    ABSTAIN_TEXT, Answer, Citation, citation_header, content_terms, lead_agency, overlap_score, sentences,
)
from retriever.fusion import Hit
from retriever.query import Query, analyse, normalise_number
from retriever.search import HybridSearcher, HybridSettings

log = logging.getLogger("retriever")


@dataclass
class AnswerSettings:
    min_coverage: float = 0.5  # share of the question's topic (IDF mass) found in the best passage
    min_dense: float = 0.80  # cosine of the best passage, used together with coverage
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
        self.places = self._doc_places()
        self.folded_texts = {d.doc_id: repaired(d.text) for d in bundle.documents.values()}

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
            hits = {d.doc_id for d in self.bundle.documents.values()
                    if d.meta.number and normalise_number(d.meta.number) == num}
            if hits:
                scoped |= hits
            elif not any(num.replace("/", " / ") in t or num in t for t in self.folded_texts.values()):
                return None, f"không có văn bản số {num.upper()} trong kho"
        for place in q.places:
            hits = {d.doc_id for d in self.bundle.documents.values()
                    if d.meta.locality and place in repaired(d.meta.locality)}
            if not hits:
                hits = {doc_id for doc_id, t in self.folded_texts.items() if re.search(rf"\b{place}\b", t)}
            if not hits:
                return None, f"không có kế hoạch nào của/nhắc đến {place.title()} trong kho"
            scoped |= hits
        return (sorted(scoped) if scoped else None), None

    # ---- main entry --------------------------------------------------------------------------
    def search(self, question: str, k: int = 5) -> list[Hit]:
        q = analyse(question, self.places)
        docs, _ = self.scope(q)
        rows = np.concatenate([self.doc_rows[d] for d in docs]) if docs else None
        return self.searcher.search(q.text, k, rows=rows)

    def ask(self, question: str, k: int | None = None, qid: str | None = None) -> Answer:
        t0 = time.perf_counter()
        k = k or self.settings.k
        if not question or not question.strip():
            raise ValueError("the question is empty; type a question in Vietnamese")
        q = analyse(question, self.places)
        docs, reason = self.scope(q)
        if reason:
            return self._abstain(q, qid, reason)
        rows = np.concatenate([self.doc_rows[d] for d in docs]) if docs else None
        qvec = self.encoder.encode_queries([q.text])[0]
        hits = self.searcher.search(q.text, max(k, 10), rows=rows, qvec=qvec)
        if not hits:
            return self._abstain(q, qid, "không có đoạn văn nào khớp")
        relevant, why = self._relevant(q, hits, qvec)
        if not relevant:
            return self._abstain(q, qid, why)
        answer = self._compose(q, hits, docs, k, qid)
        log.info("answered", extra={"ms": round((time.perf_counter() - t0) * 1000, 1), "intent": answer.intent,
                                    "abstained": answer.abstained, "top": hits[0].chunk_id})
        return answer

    def _abstain(self, q: Query, qid: str | None, reason: str | None) -> Answer:
        text = ABSTAIN_TEXT + (f" ({reason})" if reason else "")
        return Answer(question=q.text, answer=text, abstained=True, citations=(), id=qid, intent=q.intents[0])

    def _relevant(self, q: Query, hits: list[Hit], qvec: np.ndarray) -> tuple[bool, str | None]:
        qt = set(content_terms(q.text))
        if not qt:
            return True, None
        total = sum(self.idf.get(t, 1.0) for t in qt)
        best_cov, best_dense = 0.0, 0.0
        for h in hits[:5]:
            c = self.by_id[h.chunk_id]
            text = index_text(self.bundle.documents[c.doc_id].meta, c)
            best_cov = max(best_cov, overlap_score(qt, self.idf, text) / total)
            best_dense = max(best_dense, float(self.bundle.vectors[self.row[h.chunk_id]] @ qvec))
        ok = best_cov >= self.settings.min_coverage or best_dense >= self.settings.min_dense + 0.05
        if ok and "amount" in q.intents:
            ok = any(re.search(r"\d[\d.,]*\s*(?:ty|trieu|nghin)\s*dong", fold(self.by_id[h.chunk_id].text))
                     for h in hits[:5])
        return ok, None if ok else "các đoạn gần nhất không nói đến nội dung này"

    # ---- composition -------------------------------------------------------------------------
    def _citation(self, rank: int, hit: Hit) -> Citation:
        c = self.by_id[hit.chunk_id]
        d = self.bundle.documents[c.doc_id]
        m = d.meta
        return Citation(rank=rank, chunk_id=c.chunk_id, doc_id=c.doc_id, doc_number=m.number, doc_type=m.doc_type,
                        issuer=m.issuer, date=m.date, source_file=d.source_file, section=c.section, text=c.text,
                        score=round(hit.score, 6), start=c.start, end=c.end)

    def _compose(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int, qid: str | None) -> Answer:
        intent = q.intents[0]
        if intent == "meta":
            return self._meta_answer(q, hits, docs, k, qid)
        best = self._best_sentence(q, hits[:5])
        hit, sent = best
        ordered = [hit] + [h for h in hits if h.chunk_id != hit.chunk_id]
        cits = tuple(self._citation(i + 1, h) for i, h in enumerate(ordered[:k]))
        chunk = self.by_id[hit.chunk_id]
        lead_in = ""
        if intent in ("lead", "coordination"):
            agency = lead_agency(sent, chunk.section_path[-1] if chunk.section_path else None)
            if agency:
                lead_in = f"Cơ quan chủ trì: {agency}. "
        text = f"{lead_in}Theo {citation_header(cits[0])}, mục {chunk.section}: “{collapse_ws(sent)}”"
        return Answer(question=q.text, answer=text, abstained=False, citations=cits, id=qid, intent=intent,
                      evidence=sent)

    def _best_sentence(self, q: Query, hits: list[Hit]) -> tuple[Hit, str]:
        qt = set(terms(q.text)) - {t for t in terms(q.text) if t in _GENERIC}
        bonus_terms = _INTENT_TERMS.get(q.intents[0], ())
        best: tuple[float, int, Hit, str] | None = None
        for rank, h in enumerate(hits):
            c = self.by_id[h.chunk_id]
            for s in sentences(c.text):
                score = overlap_score(qt, self.idf, s.text) / (1 + 0.15 * rank)
                rep = repaired(s.text)
                if any(b in rep for b in bonus_terms):
                    score *= 1.3
                if len(s.text) < 25:
                    score *= 0.5
                if best is None or score > best[0]:
                    best = (score, rank, h, s.text)
        assert best is not None
        return best[2], best[3]

    def _meta_answer(self, q: Query, hits: list[Hit], docs: list[str] | None, k: int, qid: str | None) -> Answer:
        doc_id = docs[0] if docs and len(docs) == 1 else self.by_id[hits[0].chunk_id].doc_id
        d = self.bundle.documents[doc_id]
        m = d.meta
        first = min((c for c in self.bundle.chunks if c.doc_id == doc_id), key=lambda c: c.start)
        head = Hit(first.chunk_id, 1.0)
        ordered = [head] + [h for h in hits if h.chunk_id != head.chunk_id]
        cits = tuple(self._citation(i + 1, h) for i, h in enumerate(ordered[:k]))
        parts = [f"{m.doc_type or 'Văn bản'} " + (f"số {m.number}" if m.number else "không ghi số (để trống)")]
        if m.issuer:
            parts.append(f"do {m.issuer} ban hành")
        parts.append(f"ngày {m.date}" if m.date else "không ghi ngày")
        text = " ".join(parts) + "."
        if m.signer:
            text += f" Người ký: {m.signer}."
        if m.number_raw and m.number_raw != f"Số {m.number}":
            text += f" (Số hiệu in trong văn bản: “{m.number_raw}”.)"
        return Answer(question=q.text, answer=text, abstained=False, citations=cits, id=qid, intent="meta",
                      evidence=first.text[:300])


_GENERIC = {"co", "quan", "nao", "gi", "bao", "nhieu", "ai", "la", "cua", "o", "trong", "ke", "hoach", "xa", "tinh"}
_INTENT_TERMS = {
    "lead": ("chu tri", "giao "),
    "coordination": ("phoi hop",),
    "deadline": ("truoc ngay", "nam 20", "hang nam", "thuong xuyen", "den nam"),
    "target": ("%", "dat ", "tang "),
}
