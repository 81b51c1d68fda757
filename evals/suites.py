"""Held-out and unseen-plans suites: bundled-dev, bundled-test and unseen, each as written and accent-free.

* **bundled-dev / bundled-test** are the two halves of the bundled gold set (:mod:`evals.split`).  Their as-written
  figures are the project's records of the gold suite, taken apart by question id (nothing is asked twice); their
  accent-free figures come from asking every question again with its diacritics stripped.
* **unseen** asks the questions of ``evals/gold/unseen-dev.jsonl`` about plans the project was not built on
  (``../shared/external/plans-dev``), over an index of the bundled plans *and* those plans, built once into a cache
  folder and reused while the plans, the model and the ingest/index code are unchanged.

Tuning happens on bundled-dev (and unseen-dev) only; bundled-test is frozen (see evals/gold/README.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from evals.gold import GoldItem, load_gold
from evals.runner import ProjectSystem, Span, evaluate_system, load_checked_gold, sibling_retriever, summarise
from evals.split import BUNDLED_DEV, BUNDLED_TEST, UNSEEN_DEV, file_sha256
from evals.xquad import strip_diacritics
from index.embed_cache import EmbeddingCache
from index.store import IndexBundle, IndexError_, build_index, corpus_hash, index_text, load_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths
from ingest.reader import discover
from retriever.service import Retriever

log = logging.getLogger("evals.suites")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLANS_DEV = Path("../shared/external/plans-dev")  # relative to the repository root
DEFAULT_UNSEEN_INDEX = Path("var/eval/unseen-index")
CACHE_KEY_FILE = "eval-cache-key.json"
CODE_DIRS = ("ingest", "index")  # code whose change makes a cached index stale
SUITES = ("bundled-dev", "bundled-test", "unseen")
FORMS = ("as_written", "accent_free")
TABLE_METRICS = ("n", "answer_accuracy", "doc_hit@5", "number_cited", "answerable_refused", "hit@5",
                 "abstention_recall")


# ---- paths --------------------------------------------------------------------------------------------------------
def check_plans_dev(path: Path | None = None) -> Path:
    """The plans-dev folder (default ``../shared/external/plans-dev`` from the repository root); a clear error when
    it is missing or holds no plan."""
    folder = Path(path) if path is not None else (REPO_ROOT / DEFAULT_PLANS_DEV).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"plans-dev folder {folder} not found: the unseen-plans suite needs the eight plans "
                                f"of ../shared/external/plans-dev; pass --plans-dev DIR")
    if not any(folder.glob("*.txt")):
        raise FileNotFoundError(f"plans-dev folder {folder} holds no .txt plan; pass --plans-dev DIR")
    return folder


# ---- cached index of the bundled plans + plans-dev ----------------------------------------------------------------
def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """SHA-256 over the ingest and index source (and data) files: a change there rebuilds the cached index."""
    h = hashlib.sha256()
    for d in CODE_DIRS:
        for f in sorted((root / d).rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _cached(cache_dir: Path, key: dict) -> IndexBundle | None:
    try:
        stored = json.loads((cache_dir / CACHE_KEY_FILE).read_text(encoding="utf-8"))
        if stored == key:
            return load_index(cache_dir)
    except (OSError, ValueError, IndexError_):
        pass
    return None


def plan_files(plans_dir: Path) -> list[Path]:
    """The plans of ``plans_dir`` as ingest finds them (the folder's notes, README or SOURCES, have no document
    header: :func:`ingest.reader.scan` lists them as skipped)."""
    return discover([Path(plans_dir)])


def _embedding_cache(cache_dir: Path, encoder) -> EmbeddingCache:
    """A persistent embedding cache beside ``cache_dir``, seeded with the vectors of the index there (if any): a
    rebuild after an ingest/index code change embeds only the texts that changed."""
    cache = EmbeddingCache(encoder.name, encoder.dim, cache_dir.parent / f"{cache_dir.name}-embeddings")
    try:
        old = load_index(cache_dir)
    except (IndexError_, OSError, ValueError):
        return cache
    if old.manifest.get("embedding", {}).get("model") == encoder.name:
        texts = [index_text(old.documents[c.doc_id].meta, c) for c in old.chunks]
        cache.put([cache.key(t) for t in texts], np.asarray(old.vectors, dtype=np.float32))
        cache.flush()
    return cache


def unseen_index(corpus_dir: Path, plans_dir: Path, encoder, cache_dir: Path = DEFAULT_UNSEEN_INDEX,
                 progress: bool = True) -> tuple[IndexBundle, bool]:
    """``(bundle, reused)``: the bundled plans and the plans-dev plans indexed together (default chunking), reused
    from ``cache_dir`` when its key (plans' content hash, model, ingest/index code) is unchanged."""
    docs, chunks = ingest_paths([Path(corpus_dir), *plan_files(plans_dir)], progress=progress)
    key = {"corpus_hash": corpus_hash(docs), "model": encoder.name, "code": code_fingerprint()}
    cache_dir = Path(cache_dir)
    bundle = _cached(cache_dir, key)
    if bundle is not None:
        log.info("reusing unseen-plans index", extra={"dir": str(cache_dir)})
        return bundle, True
    cache = _embedding_cache(cache_dir, encoder)
    bundle = build_index(docs, chunks, encoder, cache_dir, ChunkSettings(), progress=progress, cache=cache)
    (cache_dir / CACHE_KEY_FILE).write_text(json.dumps(key, indent=1), encoding="utf-8")
    return bundle, False


# ---- one suite, as written and accent-free ------------------------------------------------------------------------
def accent_free(items: Sequence[GoldItem]) -> list[GoldItem]:
    """Every question with its diacritics stripped (ids and expectations unchanged)."""
    return [replace(it, question=strip_diacritics(it.question), accented=False) for it in items]


def _forms(as_written: dict, accent_free_res: dict) -> dict:
    return {"as_written": as_written, "accent_free": accent_free_res}


def run_items(retriever: Retriever, items: Sequence[GoldItem], spans: dict[str, list[Span]], name: str,
              progress: bool = True) -> dict:
    """The project over ``items`` as written and accent-free."""
    system = ProjectSystem(retriever)
    return _forms(evaluate_system(system, items, spans, name=name, progress=progress),
                  evaluate_system(system, accent_free(items), spans, name=f"{name}/accent-free", progress=progress))


def split_ids(path: Path, known: set[str]) -> list[str]:
    ids = [it.id for it in load_gold(path)]
    unknown = sorted(set(ids) - known)
    if unknown:
        raise ValueError(f"{path}: ids not in the bundled gold set: {', '.join(unknown[:5])}; "
                         f"rerun `python -m evals.split`")
    return ids


def bundled_split_suites(retriever: Retriever, gold: dict, gold_path: Path, corpus_dir: Path,
                         progress: bool = True) -> dict[str, dict]:
    """bundled-dev and bundled-test: the gold suite's project records split by id, plus an accent-free ask."""
    items, spans = load_checked_gold(gold_path, corpus_dir)
    by_id = {it.id: it for it in items}
    recs = {r["id"]: r for r in gold["systems"]["project"]["records"]}
    out = {}
    for name, path in (("bundled-dev", BUNDLED_DEV), ("bundled-test", BUNDLED_TEST)):
        ids = split_ids(path, set(by_id))
        part = [by_id[i] for i in ids]
        free = evaluate_system(ProjectSystem(retriever), accent_free(part), spans, name=f"{name}/accent-free",
                               progress=progress)
        written = summarise([recs[i] for i in ids], [])
        out[name] = {"path": str(path), "n": len(ids), "sha256": file_sha256(path), **_forms(written, free)}
    return out


def run_unseen(retriever: Retriever, corpus_dir: Path, plans_dir: Path | None = None,
               cache_dir: Path = DEFAULT_UNSEEN_INDEX, gold_path: Path = UNSEEN_DEV, progress: bool = True) -> dict:
    """The unseen-plans suite: questions about plans-dev, asked over the bundled plans + plans-dev."""
    plans = check_plans_dev(plans_dir)
    t0 = time.perf_counter()
    items, spans = load_checked_gold(gold_path, plans)
    bundle, reused = unseen_index(corpus_dir, plans, retriever.encoder, cache_dir, progress)
    t_index = time.perf_counter() - t0
    res = run_items(sibling_retriever(retriever, bundle), items, spans, "unseen", progress)
    return {"path": str(gold_path), "n": len(items), "plans_dir": str(plans), "index_dir": str(bundle.directory),
            "plans": len(bundle.documents), "index_reused": reused,
            "seconds": {"index": round(t_index, 1), "ask": round(time.perf_counter() - t0 - t_index, 1)}, **res}


# ---- side-by-side table -------------------------------------------------------------------------------------------
def side_by_side(suites: dict[str, dict], metrics: Sequence[str] = TABLE_METRICS) -> list[tuple[str, dict]]:
    """Rows ``("bundled-dev · as written", overall)`` for every suite and form present."""
    rows = []
    for name in SUITES:
        if name in suites:
            for form in FORMS:
                label = form.replace("_", " ").replace("accent free", "accent-free")
                rows.append((f"{name} · {label}", {m: suites[name][form]["overall"].get(m) for m in metrics}))
    return rows
