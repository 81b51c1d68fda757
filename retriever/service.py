"""The one public entry point used by the CLI, the API, the UI and the evaluators.

``Retriever.ask`` runs the stages in order — scope, search, relevance gate, composers — over one
:class:`~retriever.context.AskContext`; a stage that returns an :class:`Answer` ends the question (an
abstention with its reason, or the composed answer)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from index.encoder import Encoder
from index.store import IndexBundle, StoredDocument, check_encoder
from ingest.records import Chunk
from retriever.answer import Answer
from retriever.checks import relevance
from retriever.composers import compose
from retriever.context import AskContext
from retriever.corpus import Corpus
from retriever.display import Display
from retriever.facts import FactIndex
from retriever.query import Query, analyse
from retriever.scope import ScopeResolver
from retriever.search import HybridSearcher, HybridSettings
from retriever.settings import AnswerSettings

__all__ = ["AnswerSettings", "Retriever", "SearchHit"]

log = logging.getLogger("retriever")


@dataclass(frozen=True)
class SearchHit:
    """A search result with its passage and plan, so callers never look rows up themselves."""

    rank: int
    score: float
    chunk: Chunk
    document: StoredDocument

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


def scope_stage(ctx: AskContext) -> Answer | None:
    """Plans named by number or place, then the caller's filter; abstain on an unknown plan or place."""
    scope = ctx.scope.resolve(ctx.q, ctx.doc_filter)
    if scope.reason:
        return ctx.abstain(scope.reason)
    ctx.docs, ctx.note = scope.docs, scope.note
    return None


def search_stage(ctx: AskContext) -> Answer | None:
    """Dense + lexical search fused, within the plans in scope."""
    q = ctx.q
    ctx.qvec = ctx.searcher.dense.embed(q.text)
    depth = max(ctx.k, ctx.settings.search_depth)
    ctx.hits = ctx.searcher.search(q.text, depth, rows=ctx.corpus.rows_of(ctx.docs), lexical_query=q.search,
                                   qvec=ctx.qvec)
    return None if ctx.hits else ctx.abstain("không có đoạn văn nào khớp")


def relevance_stage(ctx: AskContext) -> Answer | None:
    """Abstain when the best passages are not about the question's topic."""
    ok, why = relevance(ctx)
    return None if ok else ctx.abstain(why)


Stage = Callable[[AskContext], Answer | None]
STAGES: tuple[Stage, ...] = (scope_stage, search_stage, relevance_stage, compose)


class Retriever:
    """Question → grounded :class:`Answer` with citations, or an abstention with none."""

    def __init__(self, bundle: IndexBundle, encoder: Encoder, hybrid: HybridSettings | None = None,
                 answer: AnswerSettings | None = None) -> None:
        check_encoder(bundle, encoder)
        self.bundle, self.encoder = bundle, encoder
        self.searcher = HybridSearcher(bundle, encoder, hybrid)
        self.settings = answer or AnswerSettings()
        self.corpus = Corpus(bundle)
        self.scope = ScopeResolver(self.corpus)
        self.display = Display(bundle.documents, bundle.restorations)  # restored readings of OCR plans

    @property
    def documents(self) -> dict[str, StoredDocument]:
        """The indexed plans by doc id."""
        return self.corpus.documents

    @property
    def manifest(self) -> dict:
        """The index's manifest (model, settings, counts, checksums)."""
        return self.bundle.manifest

    @property
    def facts(self) -> FactIndex:
        """Assignments and targets of the indexed plans."""
        return self.corpus.facts

    def chunk_count(self, doc_id: str) -> int:
        """How many indexed passages plan ``doc_id`` has (0 for an unknown id)."""
        return len(self.corpus.doc_rows.get(doc_id, ()))

    def ask(self, question: str, k: int | None = None, qid: str | None = None,
            doc_ids: Collection[str] | None = None) -> Answer:
        """Answer ``question`` from the indexed plans (optionally only from ``doc_ids``), or abstain."""
        t0 = time.perf_counter()
        ctx = AskContext(q=self._query(question), k=k or self.settings.k, qid=qid, corpus=self.corpus,
                         settings=self.settings, searcher=self.searcher, scope=self.scope, doc_filter=doc_ids)
        answer = next(a for a in (stage(ctx) for stage in STAGES) if a is not None)
        log.info("answered", extra={"ms": round((time.perf_counter() - t0) * 1000, 1), "intent": answer.intent,
                                    "abstained": answer.abstained,
                                    "top": ctx.hits[0].chunk_id if ctx.hits else None})
        return answer

    def search(self, question: str, k: int = 5, doc_ids: Collection[str] | None = None) -> list[SearchHit]:
        """The ``k`` best passages for ``question`` within the plans it names and ``doc_ids`` (no answer)."""
        q = self._query(question)
        docs = self.scope.restrict(self.scope.named(q).docs, doc_ids)
        if docs == []:
            return []
        hits = self.searcher.search(q.text, k, rows=self.corpus.rows_of(docs), lexical_query=q.search)
        by_id, documents = self.corpus.by_id, self.corpus.documents
        return [SearchHit(rank, h.score, by_id[h.chunk_id], documents[by_id[h.chunk_id].doc_id])
                for rank, h in enumerate(hits, start=1)]

    def _query(self, question: str) -> Query:
        """The analysed question; an empty one is an error."""
        if not question or not question.strip():
            raise ValueError("the question is empty; type a question in Vietnamese")
        return analyse(question, self.scope.places)
