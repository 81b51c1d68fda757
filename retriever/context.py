"""The per-question context every stage reads and fills in."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from retriever.answer import ABSTAIN_TEXT, Answer, Citation
from retriever.corpus import Corpus
from retriever.fusion import Hit
from retriever.query import Query
from retriever.scope import ScopeResolver
from retriever.search import HybridSearcher
from retriever.settings import AnswerSettings

ASSIGNMENT_INTENTS = frozenset({"lead", "coordination", "deadline"})


@dataclass
class AskContext:
    """One question on its way through scope → search → checks → composers."""

    q: Query
    k: int
    qid: str | None
    corpus: Corpus
    settings: AnswerSettings
    searcher: HybridSearcher
    scope: ScopeResolver
    doc_filter: Collection[str] | None = None  # the caller's plans (UI/API filter); None = no filter
    docs: list[str] | None = None  # plans in scope after the scope stage; None = every plan
    hits: list[Hit] = field(default_factory=list)  # fused search hits, best first
    qvec: np.ndarray | None = None  # the question's embedding, reused by composers that search again
    note: str | None = None  # from the scope stage, said before the answer ("Tỉnh X đã sáp nhập vào …")

    @property
    def intent(self) -> str:
        return self.q.intents[0]

    @property
    def multi_plan(self) -> bool:
        """The question names several plans (places or numbers) and several are in scope: compare them."""
        return bool(self.docs) and len(self.docs) > 1 and len(self.q.places) + len(self.q.numbers) > 1

    @property
    def structured(self) -> bool:
        """Assignments and targets can answer: they hold no money, no present state and no exact dates."""
        q = self.q
        return not ("amount" in q.intents or q.asks_current or q.asks_exact_date)

    def answer(self, text: str, citations: tuple[Citation, ...], intent: str | None = None,
               evidence: str | None = None, facts: dict | None = None) -> Answer:
        text = f"{self.note}\n{text}" if self.note else text
        return Answer(question=self.q.text, answer=text, abstained=False, citations=citations, id=self.qid,
                      intent=intent or self.intent, evidence=evidence, facts=facts)

    def abstain(self, reason: str | None) -> Answer:
        text = ABSTAIN_TEXT + (f" ({reason})" if reason else "")
        return Answer(question=self.q.text, answer=text, abstained=True, citations=(), id=self.qid,
                      intent=self.intent)
