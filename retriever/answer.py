"""Typed answers and extractive answer composition: every answer sentence is copied from a cited passage."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from index.lexical import terms
from ingest.records import plan_label
from ingest.textnorm import collapse_ws, repaired

ABSTAIN_TEXT = "Không tìm thấy thông tin này trong các kế hoạch đã được lập chỉ mục."

# question words and plan boilerplate that say nothing about the topic
STOPWORDS = set("""
co quan nao gi bao nhieu the nao ai la cua o trong ve va cac nhung duoc khong theo ke hoach chuong trinh hanh dong
xa tinh cho biet hay nhu sau nay do voi tai den tu de mot so khi nao viec thi phai can se da dang nhiem vu
nhan dan suc khoe nghi quyet thuc hien van ban phuong thanh pho huyen cap uy ban
""".split())


@dataclass(frozen=True)
class Citation:
    rank: int
    chunk_id: str
    doc_id: str
    doc_number: str | None
    doc_type: str | None
    issuer: str | None
    date: str | None
    source_file: str
    section: str
    text: str
    score: float
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    id: str | None = None
    intent: str = "general"
    evidence: str | None = None  # the exact passage text the answer quotes
    # structured parts for UIs: {"kind": "assignment", "lead": [...], "coordinating": [...], "deadline", "task",
    # "section", "doc_id"} or {"kind": "targets", "targets": [{doc_id, indicator, label, value, unit, period}]}
    facts: dict | None = None

    def to_json(self, debug: bool = False) -> dict:
        out: dict = {}
        if self.id is not None:
            out["id"] = self.id
        out.update(question=self.question, answer=self.answer, abstained=self.abstained,
                   citations=[{k: v for k, v in asdict(c).items() if debug or k not in ("start", "end")}
                              for c in self.citations])
        if debug:
            out["intent"] = self.intent
            if self.facts is not None:
                out["facts"] = self.facts
        return out


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset inside the chunk text
    end: int


_SPLIT_RE = re.compile(r"(?<=[.;!?])\s+(?=\S)|\n\s*(?=[-+*•]\s)|\n\s*(?=\d{1,2}\s*[.\-]\s+[^\W\d_])")


def sentences(text: str) -> list[Sentence]:
    """Sentences and bullet items of a passage, with offsets into it."""
    out, pos = [], 0
    for m in _SPLIT_RE.finditer(text):
        piece = text[pos:m.start()]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append(Sentence(piece.strip(), pos + lead, pos + lead + len(piece.strip())))
        pos = m.end()
    tail = text[pos:]
    if tail.strip():
        lead = len(tail) - len(tail.lstrip())
        out.append(Sentence(tail.strip(), pos + lead, pos + lead + len(tail.strip())))
    return out


def content_terms(question: str) -> list[str]:
    """Unigram search terms of the question that carry its topic."""
    return [t for t in terms(question) if "_" not in t and t not in STOPWORDS and len(t) > 1]


def overlap_score(q_terms: set[str], idf: dict[str, float], text: str) -> float:
    """IDF mass of question terms (unigrams and bigrams) present in ``text``."""
    present = set(terms(text))
    return sum(idf.get(t, 1.0) for t in q_terms if t in present)


_LEAD_CUT = re.compile(r"^(?:\d{1,2}\s*[.\-]\s*|[-+*•]\s*)*(?:giao\s+|de nghi\s+)?", re.I)


def lead_agency(sentence: str, heading: str | None = None) -> str | None:
    """The agency named before "chủ trì" in a sentence ("Phòng Văn hóa- Xã hội chủ trì, ..."),
    or the item heading when the sentence starts with "Chủ trì" under "1. Phòng Văn hoá - Xã hội"."""
    rep = repaired(sentence)
    m = re.search(r"\bchu\s+tri\b", rep)
    if not m:
        return None
    before = sentence[: m.start()]
    before_rep = rep[: m.start()]
    cut = max(before_rep.rfind(";"), before_rep.rfind(":"), before_rep.rfind("."))
    if cut >= 0 and not re.match(r"^\s*\d{1,2}\s*$", before_rep[:cut]):
        before, before_rep = before[cut + 1:], before_rep[cut + 1:]
    lead = len(_LEAD_CUT.match(before_rep).group(0)) if _LEAD_CUT.match(before_rep) else 0
    agency = collapse_ws(before[lead:]).strip(" ,-")
    if len(agency) < 3 and heading:
        agency = re.sub(r"^\d{1,2}\.\s*", "", heading).strip()
    return agency if len(agency) >= 3 else None


def citation_header(c: Citation) -> str:
    """The cited plan's label: "Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên"."""
    return plan_label(c.doc_type, c.doc_number, c.issuer)
