"""ALQAC 2024 Task 1 (Vietnamese statute article retrieval) as an external benchmark.

The articles are read where they lie (``../shared/external/alqac2024/docs/``, never copied into the repository),
ingested by the product's own pipeline (:func:`ingest.pipeline.load_document`: the heading line is the article's
identity, a short article is one chunk) and indexed by :func:`index.store.build_index` with the suites' embedding
cache.  Each question is asked through :meth:`Retriever.search`, so a law the question names by title scopes the
search through the same scope stage the plans use.  Beside it, in the same run: BM25 over plain syllables and the
dense half (e5) alone over the same index.  Multiple-choice options are not appended to the questions.

Two runs: the default CI subset (the public-test questions against every article of the laws their gold articles
belong to) and ``full`` (all 728 questions against all 2,249 articles).  Metrics: recall@1/5/10, MRR@10 and
macro-F2 (ALQAC's official metric) of the top-1 article and of an adaptive cut (the top article, plus the next ones
whose score is at least ``cut`` × the top score; ``cut`` learned on the train subsets only, full run only).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.baselines import PlainBM25
from evals.suites import CACHE_KEY_FILE, _cached, code_fingerprint
from index.embed_cache import CachedEncoder, EmbeddingCache
from index.progress import progress_bar
from index.store import IndexBundle, build_index, corpus_hash
from ingest.chunking import ChunkSettings, chunk_document
from ingest.pipeline import load_document
from ingest.textnorm import nfc
from retriever.service import Retriever

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ALQAC = REPO_ROOT.parent / "shared" / "external" / "alqac2024"
DEFAULT_ALQAC_INDEX = Path("var/eval/alqac-index")
PUBLIC_TEST = "alqac2024_public_test"
TRAIN_SUBSETS = ("alqac2024_train_verified", "alqac2024_train_unverified")
SEARCH_K = 30  # chunks asked for; ranks are over distinct articles, cut at 10
CUTS = tuple(round(0.80 + 0.01 * i, 2) for i in range(21))  # candidate adaptive cuts, learned on train only


@dataclass(frozen=True)
class AlqacQuestion:
    id: str
    question: str
    gold: frozenset[str]  # doc ids (file stems)
    subsets: frozenset[str]


@dataclass(frozen=True)
class Alqac:
    path: Path
    files: tuple[Path, ...]
    questions: tuple[AlqacQuestion, ...]


def check_alqac_path(path: Path | None = None) -> Path:
    path = Path(path) if path else DEFAULT_ALQAC
    if not (path / "docs").is_dir() or not (path / "questions.jsonl").is_file():
        raise FileNotFoundError(f"ALQAC 2024 folder not found at {path} (needs docs/, questions.jsonl, gold.tsv, "
                                f"splits.tsv); it lives outside the repository in ../shared/external/alqac2024")
    return path


def _tsv(path: Path) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if any(len(r) != 2 for r in rows):
        raise ValueError(f"{path}: expected two tab-separated columns per line")
    return [(a.strip(), b.strip()) for a, b in rows]


def load_alqac(path: Path | None = None) -> Alqac:
    path = check_alqac_path(path)
    gold: dict[str, set[str]] = {}
    for qid, name in _tsv(path / "gold.tsv"):
        gold.setdefault(qid, set()).add(Path(name).stem)
    subsets: dict[str, set[str]] = {}
    for qid, subset in _tsv(path / "splits.tsv"):
        subsets.setdefault(qid, set()).add(subset)
    questions = []
    for n, line in enumerate((path / "questions.jsonl").read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            qid, text = str(rec["id"]), nfc(rec["question"]).strip()
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path / 'questions.jsonl'}:{n}: needs \"id\" and \"question\" ({exc})") from exc
        if qid in gold:
            questions.append(AlqacQuestion(qid, text, frozenset(gold[qid]), frozenset(subsets.get(qid, ()))))
    return Alqac(path, tuple(sorted((path / "docs").glob("*.txt"))), tuple(questions))


def law_of(doc_id: str) -> str:
    """"luat-cu-tru__dieu-038" → "luat-cu-tru"."""
    return doc_id.split("__", 1)[0]


def ci_subset(ds: Alqac) -> tuple[list[Path], list[AlqacQuestion]]:
    """The CI run: the public-test questions and every article of the laws their gold articles belong to."""
    qs = [q for q in ds.questions if PUBLIC_TEST in q.subsets]
    laws = {law_of(g) for q in qs for g in q.gold}
    return [f for f in ds.files if law_of(f.stem) in laws], qs


# ---- metrics ------------------------------------------------------------------------------------------------------
def distinct_ranked(pairs: Sequence[tuple[str, float]], k: int = 10) -> list[tuple[str, float]]:
    """(doc id, best score) of the first ``k`` distinct documents, best first, from ranked chunk hits."""
    out: dict[str, float] = {}
    for doc, score in pairs:
        if doc not in out:
            out[doc] = score
            if len(out) == k:
                break
    return list(out.items())


def f2(retrieved: Sequence[str], gold: Collection) -> float:
    """ALQAC's per-question F2: 5·P·R / (4·P + R) (0 when nothing right is retrieved)."""
    right = len(set(retrieved) & set(gold))
    if not right:
        return 0.0
    p, r = right / len(set(retrieved)), right / len(gold)
    return 5 * p * r / (4 * p + r)


def adaptive_cut(ranked: Sequence[tuple[str, float]], cut: float) -> list[str]:
    """The top document plus each following one scoring at least ``cut`` × the top score."""
    if not ranked:
        return []
    top = ranked[0][1]
    return [ranked[0][0]] + [d for d, s in ranked[1:] if top > 0 and s >= cut * top]


def retrieval_metrics(recs: Sequence[dict], row: str, cut: float | None) -> dict:
    n = len(recs)
    if not n:
        return {"n": 0}

    def first_rank(r: dict) -> int | None:
        docs = [d for d, _ in r["ranked"][row]]
        return next((i for i, d in enumerate(docs, start=1) if d in r["gold"]), None)

    def recall(r: dict, k: int) -> float:
        return len(set(d for d, _ in r["ranked"][row][:k]) & set(r["gold"])) / len(r["gold"])

    ranks = [first_rank(r) for r in recs]
    out = {"n": n, **{f"recall@{k}": round(sum(recall(r, k) for r in recs) / n, 4) for k in (1, 5, 10)},
           "mrr@10": round(sum(1 / x for x in ranks if x) / n, 4),
           "f2@1": round(sum(f2([d for d, _ in r["ranked"][row][:1]], r["gold"]) for r in recs) / n, 4)}
    if cut is not None:
        out["f2_cut"] = round(sum(f2(adaptive_cut(r["ranked"][row], cut), r["gold"]) for r in recs) / n, 4)
    return out


def learn_cut(recs: Sequence[dict], row: str) -> float | None:
    """The cut with the best macro-F2 on the train-subset questions among ``recs`` (None without any)."""
    train = [r for r in recs if set(r["subsets"]) & set(TRAIN_SUBSETS)]
    if not train:
        return None
    return max(CUTS, key=lambda c: (sum(f2(adaptive_cut(r["ranked"][row], c), r["gold"]) for r in train), c))


# ---- index --------------------------------------------------------------------------------------------------------
def alqac_index(files: Sequence[Path], encoder, cache_dir: Path, progress: bool = True) -> tuple[IndexBundle, bool]:
    """The articles ingested and indexed into ``cache_dir`` (reused when the articles, model and ingest/index code
    are unchanged); embeddings shared through one cache beside it, so the CI and full indexes embed each text once."""
    docs = [load_document(f) for f in files]
    chunks = [c for d in docs for c in chunk_document(d, ChunkSettings())]
    key = {"corpus_hash": corpus_hash(docs), "model": encoder.name, "code": code_fingerprint()}
    cache_dir = Path(cache_dir)
    bundle = _cached(cache_dir, key)
    if bundle is not None:
        return bundle, True
    cache = EmbeddingCache(encoder.name, encoder.dim, cache_dir.parent / "embeddings")
    bundle = build_index(docs, chunks, encoder, cache_dir, ChunkSettings(), progress=progress, cache=cache)
    (cache_dir / CACHE_KEY_FILE).write_text(json.dumps(key, indent=1), encoding="utf-8")
    return bundle, False


# ---- running ------------------------------------------------------------------------------------------------------
Search = Callable[[str], list[tuple[str, float]]]  # question -> (doc id, score) of ranked chunks, best first

ROW_LABELS = {
    "project": "project retriever (Retriever.search, title scope)",
    "dense_only": "e5-small alone (project index)",
    "bm25_plain": "BM25 over plain syllables",
}


def _searchers(retriever: Retriever, docs: Sequence) -> dict[str, Search]:
    by_id = retriever.corpus.by_id
    bm25 = PlainBM25([d.text for d in docs])
    ids = [d.doc_id for d in docs]
    return {
        "project": lambda q: [(h.document.doc_id, h.score) for h in retriever.search(q, SEARCH_K)],
        "dense_only": lambda q: [(by_id[h.chunk_id].doc_id, h.score)
                                 for h in retriever.searcher.dense.search(q, SEARCH_K)],
        "bm25_plain": lambda q: [(ids[r], s) for r, s in bm25.search(q, SEARCH_K)],
    }


def _subsets_of(questions: Sequence[AlqacQuestion]) -> list[str]:
    return ["all"] + sorted({s for q in questions for s in q.subsets})


def run_alqac(encoder, path: Path | None = None, cache_dir: Path = DEFAULT_ALQAC_INDEX, full: bool = False,
              hybrid=None, progress: bool = True) -> dict:
    """Index the articles (CI subset or ``full``), ask every question through each row, aggregate per subset."""
    t0 = time.perf_counter()
    ds = load_alqac(path)
    files, questions = (list(ds.files), list(ds.questions)) if full else ci_subset(ds)
    bundle, reused = alqac_index(files, encoder, Path(cache_dir) / ("full" if full else "ci"), progress)
    t_index = round(time.perf_counter() - t0, 1)
    cached = CachedEncoder(encoder)
    cached.prime([q.question for q in questions], progress=progress, desc="alqac · embed questions")
    retriever = Retriever(bundle, cached, hybrid)
    searchers = _searchers(retriever, list(retriever.corpus.documents.values()))
    recs = []
    for q in progress_bar(questions, "alqac · search", "q", progress):
        ranked = {name: distinct_ranked(s(q.question)) for name, s in searchers.items()}
        recs.append({"id": q.id, "question": q.question, "gold": sorted(q.gold), "subsets": sorted(q.subsets),
                     "ranked": ranked, "top": {n: [d for d, _ in r[:1]] for n, r in ranked.items()}})
    cuts = {name: learn_cut(recs, name) for name in searchers}
    rows = {name: {"label": ROW_LABELS[name], "cut": cuts[name],
                   "by_subset": {sub: retrieval_metrics([r for r in recs if sub == "all" or sub in r["subsets"]],
                                                        name, cuts[name]) for sub in _subsets_of(questions)}}
            for name in searchers}
    return {"path": str(ds.path), "run": "full" if full else "ci", "articles": len(files),
            "laws": len({law_of(f.stem) for f in files}), "chunks": len(bundle.chunks), "questions": len(questions),
            "index_reused": reused, "rows": rows,
            "seconds": {"index": t_index, "total": round(time.perf_counter() - t0, 1)}, "records": recs}


def alqac_prediction_rows(suite: dict) -> list[dict]:
    return [{"suite": "alqac", "system": "project", "id": r["id"], "gold": r["gold"], "subsets": r["subsets"],
             "top": r["top"]["project"], "ranked": [d for d, _ in r["ranked"]["project"]]} for r in recs_of(suite)]


def recs_of(suite: dict) -> list[dict]:
    return suite["records"]


TABLE_METRICS = ("n", "recall@1", "recall@5", "recall@10", "mrr@10", "f2@1", "f2_cut")


def _describe(aq: dict) -> str:
    which = ("FULL run: every question against every article" if aq["run"] == "full" else
             "CI subset: the public-test questions against every article of the laws their gold articles cite")
    return (f"{which} ({aq['questions']} questions, {aq['articles']} articles of {aq['laws']} laws, {aq['chunks']} "
            f"chunks; index {'reused' if aq['index_reused'] else 'built'} in {aq['seconds']['index']} s, total "
            f"{aq['seconds']['total']} s). Questions as written (multiple-choice options not appended). f2@1: "
            f"macro-F2 of the top article; f2_cut: the top article plus those scoring ≥ cut × its score, cut learned "
            f"on the train subsets (full run only).")


def table_rows(aq: dict) -> list[list[str]]:
    out = []
    for row in aq["rows"].values():
        for sub, m in row["by_subset"].items():
            cut = f" (cut {row['cut']})" if row["cut"] is not None and sub == "all" else ""
            out.append([f"{row['label']}{cut}", sub] + ["" if m.get(k) is None else str(m[k]) for k in TABLE_METRICS])
    return out


def print_alqac(aq: dict) -> None:
    print("alqac: " + _describe(aq))
    print(f"{'row':54}{'subset':30}" + "".join(f"{c:>11}" for c in TABLE_METRICS))
    for r in table_rows(aq):
        print(f"{r[0][:54]:54}{r[1][:30]:30}" + "".join(f"{c:>11}" for c in r[2:]))


def alqac_blocks(aq: dict) -> list:
    return [("h", 2, "External benchmark: ALQAC 2024 Task 1 (statute article retrieval)"), ("p", _describe(aq)),
            ("table", ["row", "subset", *TABLE_METRICS], table_rows(aq))]
