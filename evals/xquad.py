"""XQuAD-vi as an external benchmark: paragraph retrieval and answer containment on text nobody here tuned for.

The 240 paragraphs are indexed with the project's own machinery (one :class:`Document` and one chunk per
paragraph; nothing but the paragraph text is indexed) and the 1,190 questions are asked

* at search level (:meth:`Retriever.search`): paragraph recall@1, recall@5, MRR@10, with the questions as
  written and stripped of diacritics, beside reference rows (BM25 over plain syllables, the dense half alone,
  the project's lexical half alone, the other fusion);
* through the full :meth:`Retriever.ask`: how often the answer, or the top cited passage, contains a gold
  answer span after accent folding.

The file is read where it lies (``../shared/external/xquad-vi/xquad.vi.json`` from the repository root) and
never copied into the repository.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from evals.baselines import PlainBM25
from evals.metrics import comparable
from index.embed_cache import CachedEncoder
from index.encoder import Encoder
from index.progress import progress_bar
from index.store import IndexBundle, IndexError_, build_index, corpus_hash, load_index
from ingest.chunking import ChunkSettings
from ingest.reader import sha256_text
from ingest.records import Chunk, DocMeta, Document
from ingest.textnorm import nfc
from retriever.service import Retriever

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_XQUAD = REPO_ROOT.parent / "shared" / "external" / "xquad-vi" / "xquad.vi.json"
SEARCH_K = 10
ASK_K = 5


@dataclass(frozen=True)
class Paragraph:
    index: int
    title: str
    context: str

    @property
    def doc_id(self) -> str:
        return f"xq{self.index:03d}"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    paragraph: int  # index into XQuAD.paragraphs


@dataclass(frozen=True)
class XQuAD:
    path: Path
    paragraphs: tuple[Paragraph, ...]
    questions: tuple[Question, ...]


# ---- loading ------------------------------------------------------------------------------------------------------
def check_xquad_path(path: Path | None = None) -> Path:
    """The XQuAD-vi file to read (``DEFAULT_XQUAD`` when ``path`` is None); FileNotFoundError naming the expected
    place when it is absent."""
    path = Path(path) if path else DEFAULT_XQUAD
    if not path.is_file():
        raise FileNotFoundError(f"XQuAD-vi file not found at {path}; it lives outside the repository in "
                                f"../shared/external/xquad-vi/xquad.vi.json (pass --xquad PATH)")
    return path


def load_xquad(path: Path | None = None) -> XQuAD:
    """Read a SQuAD v1.1 file (``data[].paragraphs[].context/qas[]``).  Raises FileNotFoundError naming the
    expected place when absent and ValueError on a malformed file."""
    path = check_xquad_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{path}: expected SQuAD v1.1 JSON with a top-level \"data\" list")
    paragraphs: list[Paragraph] = []
    questions: list[Question] = []
    for a, article in enumerate(data["data"]):
        for p in article.get("paragraphs", []):
            where = f"{path.name}: article {a} paragraph {len(paragraphs)}"
            if not isinstance(p.get("context"), str) or not isinstance(p.get("qas"), list):
                raise ValueError(f"{where}: needs a \"context\" string and a \"qas\" list")
            para = Paragraph(len(paragraphs), str(article.get("title", "")), nfc(p["context"]))
            paragraphs.append(para)
            questions += [_question(qa, para.index, where) for qa in p["qas"]]
    if not questions:
        raise ValueError(f"{path}: no questions")
    return XQuAD(path, tuple(paragraphs), tuple(questions))


def _question(qa: dict, paragraph: int, where: str) -> Question:
    answers = tuple(nfc(a["text"]) for a in qa.get("answers", []) if isinstance(a, dict) and a.get("text"))
    if not isinstance(qa.get("question"), str) or not qa.get("id") or not answers:
        raise ValueError(f"{where}: each qa needs \"id\", \"question\" and at least one answer text")
    return Question(str(qa["id"]), nfc(qa["question"]).strip(), answers, paragraph)


def xquad_corpus(ds: XQuAD) -> tuple[list[Document], list[Chunk]]:
    """One document and one chunk per paragraph; no metadata is invented (only the article title is kept)."""
    docs, chunks = [], []
    for p in ds.paragraphs:
        meta = DocMeta(number=None, number_raw=None, doc_type=None, issuer=None, locality=None, date=None,
                       date_iso=None, signer=None, title=p.title, ocr=False)
        docs.append(Document(p.doc_id, f"{p.doc_id}.txt", p.context, meta, (), sha256_text(p.context)))
        chunks.append(Chunk(f"{p.doc_id}#0000", p.doc_id, p.context, 0, len(p.context), (), "paragraph"))
    return docs, chunks


def xquad_index(ds: XQuAD, encoder: Encoder, cache_dir: Path | None = None, progress: bool = True) -> IndexBundle:
    """The paragraphs indexed by :func:`index.store.build_index`; reused from ``cache_dir`` when it holds the same
    paragraphs embedded by the same model, else (re)built there (or in a temporary folder)."""
    docs, chunks = xquad_corpus(ds)
    if cache_dir is not None:
        try:
            bundle = load_index(cache_dir)
            emb = bundle.manifest["embedding"]
            if bundle.manifest["corpus_hash"] == corpus_hash(docs) and emb["model"] == encoder.name:
                return bundle
        except (IndexError_, OSError, KeyError, ValueError):
            pass
    settings = ChunkSettings(chunk_size=max(len(p.context) for p in ds.paragraphs), chunk_overlap=0)
    if cache_dir is not None:
        return build_index(docs, chunks, encoder, Path(cache_dir), settings, progress=progress)
    tmp = Path(tempfile.mkdtemp(prefix="xquad-index-"))
    try:
        return build_index(docs, chunks, encoder, tmp / "index", settings, progress=progress)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- metrics ------------------------------------------------------------------------------------------------------
def strip_diacritics(text: str) -> str:
    """"Đội thủ Panthers" → "Doi thu Panthers" (case kept)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def rank_of(doc_ids: Sequence[str], gold: str) -> int | None:
    """1-based rank of ``gold`` among distinct retrieved documents."""
    seen: list[str] = []
    for d in doc_ids:
        if d not in seen:
            seen.append(d)
            if d == gold:
                return len(seen)
    return None


def retrieval_metrics(ranks: Sequence[int | None]) -> dict:
    n = len(ranks)
    if not n:
        return {"n": 0, "recall@1": None, "recall@5": None, "mrr@10": None}
    return {"n": n, "recall@1": round(sum(r == 1 for r in ranks) / n, 4),
            "recall@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
            "mrr@10": round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 4)}


def span_in(text: str, answers: Sequence[str]) -> bool:
    """A gold answer occurs in ``text`` as whole tokens after accent folding (no fuzzy matching)."""
    hay = " " + " ".join(comparable(text)) + " "
    for a in answers:
        needle = " ".join(comparable(a))
        if needle and f" {needle} " in hay:
            return True
    return False


# ---- running ------------------------------------------------------------------------------------------------------
Search = Callable[[str], list[str]]  # question -> retrieved paragraph doc ids, best first

ROW_LABELS = {
    "project": "project hybrid retriever",
    "project_other_fusion": "project retriever, other fusion",
    "project_lexical": "project lexical half alone (folded BM25 + bigrams)",
    "dense_only": "dense only (e5-small, project index)",
    "bm25_plain": "BM25 over plain syllables",
}


def _searchers(retriever: Retriever, other: Retriever, ds: XQuAD) -> dict[str, Search]:
    def doc_ids(r: Retriever, hits: list) -> list[str]:
        return [r.corpus.by_id[h.chunk_id].doc_id for h in hits]

    bm25 = PlainBM25([p.context for p in ds.paragraphs])
    ids = [p.doc_id for p in ds.paragraphs]
    return {
        "project": lambda q: doc_ids(retriever, retriever.search(q, SEARCH_K)),
        "project_other_fusion": lambda q: doc_ids(other, other.search(q, SEARCH_K)),
        "project_lexical": lambda q: doc_ids(retriever, retriever.searcher.lexical.search(q, SEARCH_K)),
        "dense_only": lambda q: doc_ids(retriever, retriever.searcher.dense.search(q, SEARCH_K)),
        "bm25_plain": lambda q: [ids[r] for r, _ in bm25.search(q, SEARCH_K)],
    }


def _ask_record(retriever: Retriever, q: Question, gold: str) -> dict:
    ans = retriever.ask(q.question, k=ASK_K, qid=q.id)
    top = ans.citations[0] if ans.citations else None
    in_answer = not ans.abstained and span_in(ans.answer, q.answers)
    in_top = top is not None and span_in(top.text, q.answers)
    return {"answer": ans.answer, "abstained": ans.abstained, "answer_contains": in_answer,
            "top_passage_contains": in_top, "answer_or_top_contains": in_answer or in_top,
            "top_paragraph_ok": top is not None and top.doc_id == gold}


def ask_metrics(recs: Sequence[dict]) -> dict:
    n = len(recs)

    def share(key: str) -> float | None:
        return round(sum(bool(r[key]) for r in recs) / n, 4) if n else None

    return {"n": n, "answer_contains": share("answer_contains"), "top_passage_contains": share("top_passage_contains"),
            "answer_or_top_contains": share("answer_or_top_contains"), "top_paragraph@1": share("top_paragraph_ok"),
            "abstained": share("abstained")}


def run_xquad(encoder: Encoder, path: Path | None = None, cache_dir: Path | None = None, hybrid=None,
              ask: bool = True, progress: bool = True, limit: int | None = None) -> dict:
    """Index XQuAD-vi, run every search row (as written and accent-free) and the full ``ask``; aggregate."""
    from retriever.search import HybridSettings

    t0 = time.perf_counter()
    ds = load_xquad(path)
    bundle = xquad_index(ds, encoder, cache_dir, progress)
    questions = ds.questions[:limit] if limit else ds.questions
    free = [strip_diacritics(q.question) for q in questions]
    cached = CachedEncoder(encoder)
    cached.prime([q.question for q in questions] + free, progress=progress, desc="xquad · embed questions")
    hybrid = hybrid or HybridSettings()
    other = replace(hybrid, fusion="rrf" if hybrid.fusion == "weighted" else "weighted")
    retriever = Retriever(bundle, cached, hybrid)
    searchers = _searchers(retriever, Retriever(bundle, cached, other), ds)
    recs = []
    for q, q_free in progress_bar(list(zip(questions, free, strict=True)), "xquad · search", "q", progress):
        gold = ds.paragraphs[q.paragraph].doc_id
        ranks = {name: rank_of(s(q.question), gold) for name, s in searchers.items()}
        ranks_free = {name: rank_of(s(q_free), gold) for name, s in searchers.items()}
        recs.append({"id": q.id, "question": q.question, "question_accent_free": q_free, "paragraph": gold,
                     "answers": list(q.answers), "ranks": ranks, "ranks_accent_free": ranks_free})
    if ask:
        for q, rec in progress_bar(list(zip(questions, recs, strict=True)), "xquad · ask", "q", progress):
            rec.update(_ask_record(retriever, q, rec["paragraph"]))
    rows = {name: {"label": ROW_LABELS[name],
                   "as_written": retrieval_metrics([r["ranks"][name] for r in recs]),
                   "accent_free": retrieval_metrics([r["ranks_accent_free"][name] for r in recs])}
            for name in searchers}
    rows["project_other_fusion"]["label"] = f"project retriever, {other.fusion} fusion"
    return {"path": str(ds.path), "paragraphs": len(ds.paragraphs), "questions": len(questions),
            "hybrid": {"fusion": hybrid.fusion, "lexical_weight": hybrid.lexical_weight,
                       "dense_weight": hybrid.dense_weight, "depth": hybrid.depth, "rrf_k": hybrid.rrf_k},
            "other_fusion": other.fusion, "rows": rows, "ask": ask_metrics(recs) if ask else None,
            "seconds": round(time.perf_counter() - t0, 1), "records": recs}


def xquad_prediction_rows(suite: dict) -> list[dict]:
    return [{"suite": "xquad", "system": "project", **r} for r in suite["records"]]

