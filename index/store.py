"""An index is one directory: manifest, documents, chunks, vectors, FAISS and lexical files.

Written atomically (built in a sibling temp folder, then swapped in) and validated on load with errors that
name the fix.  Built in one pass with bounded working memory (texts embedded block by block through an optional
content-hash :mod:`embedding cache <index.embed_cache>`), and updated *incrementally* by :func:`update_index`:
adding, changing or removing plans re-embeds only chunk texts the index has not seen, recomputes BM25 weights
from the stored term counts (``lexical_counts.npz``) and adds to / removes from the FAISS index in place, then
writes the directory atomically like a full build.  The result searches exactly like a full rebuild.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from index import atomic
from index.dense import DenseIndex, DenseSettings
from index.embed_cache import CachedEncoder, EmbeddingCache
from index.encoder import Encoder, split_precision
from index.lexical import COUNTS_FILE, K1, B, LexicalCounts, LexicalIndex, build_lexical, update_lexical
from index.manifest_schema import manifest_problem
from index.restored import (
    RESTORED_FILE,
    Restorations,
    chunk_restored_texts,
    load_restorations,
    restore_documents,
    restorer_info,
    write_restorations,
)
from ingest.chunking import ChunkSettings
from ingest.records import Chunk, DocMeta, Document, Section, meta_from_json, meta_to_json
from ingest.textnorm import NORMALISATION_VERSION

log = logging.getLogger("index.store")

FORMAT_VERSION = 1
REQUIRED_FILES = ("manifest.json", "documents.jsonl", "chunks.jsonl", "vectors.npy", "dense.faiss",
                  "lexical.npz", "lexical_vocab.json")
FACTS_FILE = "facts.jsonl"  # optional: each plan's assignments and targets, extracted once at build time
OPTIONAL_FILES = (COUNTS_FILE, FACTS_FILE, RESTORED_FILE)
EMBED_BLOCK = 2048  # texts embedded (and cached) per step of a build


class IndexError_(ValueError):
    """The index directory is missing, incomplete or does not match the code or model."""


def package_version() -> str:
    try:
        return version("kehoach-qa")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0+src"


def index_text(meta: DocMeta, chunk: Chunk) -> str:
    """What is embedded and lexically indexed: the plan's identity, the breadcrumb, the passage."""
    ident = " ".join(x for x in (meta.doc_type, f"số {meta.number}" if meta.number else None,
                                 meta.issuer, meta.locality) if x)
    return f"{ident}. {chunk.section}.\n{chunk.text}"


@dataclass
class StoredDocument:
    doc_id: str
    source_file: str
    sha256: str
    meta: DocMeta
    text: str
    sections: list[Section] = field(default_factory=list)

    @classmethod
    def from_document(cls, d: Document) -> StoredDocument:
        return cls(d.doc_id, d.source_file, d.sha256, d.meta, d.text, list(d.sections))

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "source_file": self.source_file, "sha256": self.sha256,
                "meta": meta_to_json(self.meta), "text": self.text,
                "sections": [{"path": list(s.path), "title": s.title, "kind": s.kind, "start": s.start,
                              "end": s.end} for s in self.sections]}

    @classmethod
    def from_json(cls, d: dict) -> StoredDocument:
        secs = [Section(d["doc_id"], tuple(s["path"]), s["title"], s["kind"], s["start"], s["end"])
                for s in d["sections"]]
        return cls(d["doc_id"], d["source_file"], d["sha256"], meta_from_json(d["meta"]), d["text"], secs)


# ---- structured facts (assignments, targets) ------------------------------------------------------
Facts = dict[str, tuple[list, list]]  # doc_id → (assignments, targets)


@lru_cache(maxsize=1)
def facts_fingerprint() -> str:
    """Hash of the ingest code and lexicons that extract facts: stored facts are used only while it holds."""
    import ingest

    root = Path(ingest.__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted([*root.glob("*.py"), *(root / "data").glob("*.json")]):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def extract_facts(documents: Iterable[StoredDocument], progress: bool = False) -> Facts:
    """Assignments and targets of each plan (what the retriever would otherwise extract at every start)."""
    from ingest.assignments import extract_assignments
    from ingest.targets import extract_targets

    out: Facts = {}
    docs = list(documents)
    for d in tqdm(docs, desc="facts", unit="plan", disable=not progress or len(docs) < 50, mininterval=2):
        doc = Document(d.doc_id, d.source_file, d.text, d.meta, tuple(d.sections), d.sha256)
        out[d.doc_id] = (extract_assignments(doc), extract_targets(doc))
    return out


def facts_json(facts: Facts, doc_id: str) -> dict:
    a, t = facts[doc_id]
    return {"doc_id": doc_id, "assignments": [x.to_json() for x in a], "targets": [x.to_json() for x in t]}


def facts_from_json(d: dict) -> tuple[list, list]:
    from ingest.assignments import Assignment
    from ingest.targets import Target

    return [Assignment.from_json(x) for x in d["assignments"]], [Target.from_json(x) for x in d["targets"]]


def facts_current(manifest: dict) -> bool:
    """True when the stored facts were extracted by this ingest code."""
    return (manifest.get("facts") or {}).get("fingerprint") == facts_fingerprint()


def _write_facts(facts: Facts, order: Iterable[str], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for doc_id in order:
            f.write(json.dumps(facts_json(facts, doc_id), ensure_ascii=False) + "\n")


def _load_facts(directory: Path, manifest: dict) -> Facts | None:
    info = manifest.get("facts") or {}
    if not (directory / FACTS_FILE).exists() or not facts_current(manifest):
        if info:
            log.info("stored facts were extracted by other ingest code: the retriever extracts them again",
                     extra={"dir": str(directory)})
        return None
    out: Facts = {}
    with open(directory / FACTS_FILE, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out[d["doc_id"]] = facts_from_json(d)
    return out


# ---- the bundle ---------------------------------------------------------------------------------
@dataclass
class IndexBundle:
    directory: Path
    manifest: dict
    documents: dict[str, StoredDocument]
    chunks: list[Chunk]
    vectors: np.ndarray
    dense: DenseIndex
    lexical: LexicalIndex
    lexical_counts: LexicalCounts | None = None  # loaded lazily (only updates need it)
    facts: Facts | None = None  # None: not stored (or stale); the retriever extracts them itself
    restorations: Restorations | None = None  # OCR plans' restored diacritics (None: not stored or stale)
    content_version: str | None = None  # the store's version this content was loaded as (index.backend)

    @property
    def assignments(self) -> list | None:
        """Every plan's assignments in document order, as stored with the index (None when not stored)."""
        if self.facts is None:
            return None
        return [a for doc_id in self.documents for a in self.facts.get(doc_id, ([], []))[0]]

    @property
    def targets(self) -> list | None:
        if self.facts is None:
            return None
        return [t for doc_id in self.documents for t in self.facts.get(doc_id, ([], []))[1]]

    def chunk_texts(self) -> list[str]:
        return [index_text(self.documents[c.doc_id].meta, c) for c in self.chunks]

    def restored_texts(self) -> list[str | None]:
        """The restored reading of each OCR chunk (None elsewhere), lexically indexed beside the printed one."""
        return chunk_restored_texts(self.chunks, {k: d.text for k, d in self.documents.items()},
                                    self.restorations)

    def counts(self) -> LexicalCounts:
        """Term counts for BM25 updates: from memory, the directory, or (older indexes) re-tokenised."""
        if self.lexical_counts is None:
            path = Path(self.directory) / COUNTS_FILE
            loaded = LexicalCounts.load(Path(self.directory)) if path.exists() else None
            if loaded is not None and len(loaded.counts) == self.lexical.weights.nnz \
                    and len(loaded.lengths) == len(self.chunks):
                self.lexical_counts = loaded
            else:
                log.warning("no usable lexical counts: re-tokenising every chunk once",
                            extra={"dir": str(self.directory), "chunks": len(self.chunks)})
                self.lexical, self.lexical_counts = build_lexical(self.chunk_texts(),
                                                                  restored=self.restored_texts())
        return self.lexical_counts


def corpus_hash(documents: list[Document] | list[StoredDocument]) -> str:
    h = hashlib.sha256()
    for d in sorted(documents, key=lambda x: x.doc_id):
        h.update(f"{d.doc_id}:{d.sha256}\n".encode())
    return h.hexdigest()


# ---- full build -----------------------------------------------------------------------------------
def embed_texts(texts: Sequence[str], encoder: Encoder, batch_size: int = 32, progress: bool = False,
                block: int = EMBED_BLOCK) -> np.ndarray:
    """Vectors of ``texts`` embedded block by block into one preallocated matrix (bounded working memory);
    with a :class:`CachedEncoder` each distinct text is embedded once and the cache is flushed per block."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    bar = tqdm(total=len(texts), desc="embed", unit="chunk", disable=not progress, mininterval=2)
    for a in range(0, len(texts), block):
        part = list(texts[a: a + block])
        out[a: a + len(part)] = encoder.encode_documents(part, batch_size=batch_size, progress=False)
        if isinstance(encoder, CachedEncoder):
            encoder.flush()
        bar.update(len(part))
    bar.close()
    return out


def _with_cache(encoder: Encoder, cache: EmbeddingCache | None) -> Encoder:
    if cache is None or isinstance(encoder, CachedEncoder):
        return encoder
    return CachedEncoder(encoder, cache)


def build_index(documents: list[Document], chunks: list[Chunk], encoder: Encoder, out_dir: Path,
                settings: ChunkSettings, batch_size: int = 32, progress: bool = True, *,
                dense: DenseSettings | None = None, cache: EmbeddingCache | None = None,
                vectors: np.ndarray | None = None, writer: Callable[[IndexBundle], None] | None = None
                ) -> IndexBundle:
    """Embed and index ``chunks`` and write the directory atomically.

    ``dense`` chooses the FAISS index (flat below a size threshold, IVF above by default); ``cache`` skips
    texts embedded before; ``vectors`` (chunk order, made by ``encoder``'s model) skips embedding entirely;
    ``writer`` stores the bundle elsewhere than ``out_dir`` (an :class:`index.backend.IndexStore`'s ``write``).
    """
    if not chunks:
        raise ValueError("no chunks to index: the plans produced no text")
    dense = dense or DenseSettings()
    stored = {d.doc_id: StoredDocument.from_document(d) for d in documents}
    texts = [index_text(stored[c.doc_id].meta, c) for c in chunks]
    t0 = time.perf_counter()
    enc = _with_cache(encoder, cache)
    given = vectors is not None
    if vectors is None:
        vectors = embed_texts(texts, enc, batch_size, progress)
    elif vectors.shape != (len(chunks), encoder.dim):
        raise ValueError(f"vectors of shape {vectors.shape} for {len(chunks)} chunks of dim {encoder.dim}")
    embed_s = time.perf_counter() - t0
    if given:
        stats = {"vectors": "given", "embedded": 0}
    else:
        stats = enc.stats.to_json() if isinstance(enc, CachedEncoder) else {"embedded": len(texts)}
    log.info("embedded chunks", extra={"chunks": len(texts), "seconds": round(embed_s, 2), **stats,
                                       "chunks_per_s": round(len(texts) / max(embed_s, 1e-9), 1)})
    restorations = restore_documents(stored.values())
    restored = chunk_restored_texts(chunks, {k: d.text for k, d in stored.items()}, restorations)
    lexical, counts = build_lexical(texts, progress=progress, restored=restored)
    bundle = IndexBundle(out_dir, {}, stored, list(chunks), np.ascontiguousarray(vectors, dtype=np.float32),
                         DenseIndex.build(vectors, dense, progress=progress), lexical, counts,
                         extract_facts(stored.values(), progress), restorations)
    bundle.manifest = _manifest(bundle, encoder, settings, dense, {"embedding": stats,
                                                                    "embed_seconds": round(embed_s, 2)})
    if writer is None:
        write_index(bundle, out_dir)
    else:
        writer(bundle)
    return bundle


def _manifest(b: IndexBundle, encoder: Encoder, settings: ChunkSettings | dict, dense: DenseSettings,
              build: dict | None = None) -> dict:
    per_doc: dict[str, int] = {}
    for c in b.chunks:
        per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
    return {
        "format_version": FORMAT_VERSION,
        "package_version": package_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedding": {"model": encoder.name, "dim": encoder.dim, "normalized": True,
                      "query_prompt": "query: ", "passage_prompt": "passage: "},
        "normalisation": NORMALISATION_VERSION,
        "chunking": settings.to_json() if isinstance(settings, ChunkSettings) else dict(settings),
        "lexical": {"scheme": "bm25", "k1": K1, "b": B, "terms": "folded+ocr-repaired syllables and bigrams",
                    "n_terms": len(b.lexical.vocab), "counts": COUNTS_FILE},
        "faiss": {"type": type(b.dense.index).__name__, "ntotal": b.dense.ntotal, "metric": "inner_product",
                  "params": b.dense.params, "settings": dense.to_json()},
        "corpus_hash": corpus_hash(list(b.documents.values())),
        "documents": [{"doc_id": d.doc_id, "source_file": d.source_file, "sha256": d.sha256,
                       "chunks": per_doc.get(d.doc_id, 0)} for d in b.documents.values()],
        "chunk_count": len(b.chunks),
        "build": build or {},
        "facts": None if b.facts is None else {
            "file": FACTS_FILE, "fingerprint": facts_fingerprint(),
            "assignments": sum(len(a) for a, _ in b.facts.values()),
            "targets": sum(len(t) for _, t in b.facts.values())},
        "restorer": None if b.restorations is None else {
            **restorer_info(), "file": RESTORED_FILE, "plans": len(b.restorations)},
    }


# ---- incremental update ---------------------------------------------------------------------------
@dataclass
class UpdateResult:
    bundle: IndexBundle
    added: list[str]  # doc ids new to the index
    changed: list[str]  # doc ids whose text or metadata changed
    unchanged: list[str]  # doc ids given but identical to what is indexed (nothing done)
    removed: list[str]
    chunks_added: int
    chunks_removed: int
    embedded: int  # distinct texts run through the model
    reused: int  # chunk texts whose vectors came from the index or the cache
    seconds: dict[str, float]

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "bundle"}


def _plan_changes(bundle: IndexBundle, docs: list[tuple[Document, list[Chunk]]], removed: list[str]
                  ) -> tuple[list[tuple[Document, list[Chunk]]], list[str], list[str], list[str]]:
    ids = [d.doc_id for d, _ in docs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"documents given twice: {dupes}")
    unknown = sorted(set(removed) - set(bundle.documents))
    if unknown:
        raise ValueError(f"cannot remove {unknown}: not in the index at {bundle.directory}")
    both = sorted(set(removed) & set(ids))
    if both:
        raise ValueError(f"{both} both added and removed")
    old_texts: dict[str, list[str]] = {}
    for c in bundle.chunks:
        old_texts.setdefault(c.doc_id, []).append(c.text)
    todo, added, changed, same = [], [], [], []
    for doc, chunks in docs:
        if any(c.doc_id != doc.doc_id for c in chunks):
            raise ValueError(f"chunks given with {doc.doc_id} belong to another document")
        old = bundle.documents.get(doc.doc_id)
        if old is None:
            added.append(doc.doc_id)
        elif (old.sha256, old.meta, old_texts.get(doc.doc_id, [])) == (doc.sha256, doc.meta, [c.text for c in chunks]):
            same.append(doc.doc_id)
            continue
        else:
            changed.append(doc.doc_id)
        todo.append((doc, chunks))
    return todo, added, changed, same


def update_index(index_dir: Path, added_or_changed: list[tuple[Document, list[Chunk]]], removed: list[str],
                 encoder: Encoder, *, cache: EmbeddingCache | None = None, bundle: IndexBundle | None = None,
                 dense: DenseSettings | None = None, batch_size: int = 32, verify: bool = True,
                 progress: bool = False, validate: Callable[[Path], None] | None = None) -> UpdateResult:
    """Add or replace the given plans (each with its chunks) and remove ``removed`` doc ids, in place.

    Only chunk texts the index (or ``cache``) has not embedded are embedded.  ``bundle``: the loaded index of
    ``index_dir`` (left unchanged).  Rewritten atomically (``validate``: :func:`write_index`); the manifest
    records the update."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    bundle, dense_before = _loaded(index_dir, bundle, verify)
    load_s = time.perf_counter() - t0
    result = updated_bundle(bundle, added_or_changed, removed, encoder, cache=cache, dense_index=dense_before,
                            dense=dense, batch_size=batch_size, progress=progress, directory=index_dir)
    result.seconds = {"load": round(load_s, 3), **result.seconds}
    if result.bundle is bundle:  # nothing to do
        return result
    t1 = time.perf_counter()
    write_index(result.bundle, index_dir, validate)
    result.seconds["write"] = round(time.perf_counter() - t1, 3)
    result.seconds["total"] = round(time.perf_counter() - t0, 3)
    log.info("updated index", extra={k: v for k, v in result.to_json().items() if k != "unchanged"})
    return result


def updated_bundle(bundle: IndexBundle, added_or_changed: list[tuple[Document, list[Chunk]]], removed: list[str],
                   encoder: Encoder, *, cache: EmbeddingCache | None = None, dense_index: DenseIndex | None = None,
                   dense: DenseSettings | None = None, batch_size: int = 32, progress: bool = False,
                   directory: Path | None = None) -> UpdateResult:
    """The bundle ``bundle`` becomes with the given plans added or replaced and ``removed`` gone, computed in
    memory (nothing written; ``result.bundle is bundle`` when nothing changes).  ``dense_index``: the FAISS index
    to change in place (default: a clone, so ``bundle`` stays searchable and unchanged)."""
    t = {"start": time.perf_counter()}
    check_encoder(bundle, encoder)
    todo, added, changed, same = _plan_changes(bundle, added_or_changed, removed)
    if not todo and not removed:
        return UpdateResult(bundle, [], [], same, [], 0, 0, 0, 0, _laps(t))
    drop = set(removed) | set(changed)
    keep = np.fromiter((c.doc_id not in drop for c in bundle.chunks), dtype=bool, count=len(bundle.chunks))
    documents = {k: v for k, v in bundle.documents.items() if k not in drop}
    for doc, _ in todo:
        documents[doc.doc_id] = StoredDocument.from_document(doc)
    new_chunks = [c for _, cs in todo for c in cs]
    new_texts = [index_text(documents[c.doc_id].meta, c) for c in new_chunks]
    restorations, new_restored = _updated_restorations(bundle, documents, drop, todo)
    counts, t["counts"] = bundle.counts(), time.perf_counter()

    enc = CachedEncoder(encoder, cache if cache is not None else EmbeddingCache(encoder.name, encoder.dim))
    new_vecs = _embed_new(bundle, keep, new_texts, enc, batch_size, progress)
    t["embed"] = time.perf_counter()
    lexical, counts = update_lexical(bundle.lexical, counts, keep, new_texts, new_restored)
    t["lexical"] = time.perf_counter()
    vectors = np.concatenate([bundle.vectors[keep], new_vecs]).astype(np.float32, copy=False)
    dense = dense or DenseSettings.from_json(bundle.manifest.get("faiss", {}).get("settings"))
    before = dense_index or DenseIndex(faiss.clone_index(bundle.dense.index))
    dense_out = before.updated(keep, new_vecs, vectors, dense)
    t["dense"] = time.perf_counter()

    chunks = [c for c, k in zip(bundle.chunks, keep, strict=True) if k] + new_chunks
    facts = _updated_facts(bundle, documents, drop, [doc for doc, _ in todo])
    t["facts"] = time.perf_counter()
    out = IndexBundle(directory or bundle.directory, {}, documents, chunks, vectors, dense_out, lexical, counts,
                      facts, restorations)
    stats = enc.stats.to_json()
    change = {"added": added, "changed": changed, "removed": sorted(removed), "embedding": stats}
    out.manifest = _updated_manifest(out, bundle.manifest, encoder, dense, change)
    return UpdateResult(out, added, changed, same, sorted(removed), len(new_chunks), int((~keep).sum()),
                        stats["embedded"], stats["cache_hits"], _laps(t))


def _loaded(index_dir: Path, bundle: IndexBundle | None, verify: bool) -> tuple[IndexBundle, DenseIndex]:
    """The index to update and a dense index that may be changed (a clone when the caller's bundle is given,
    which stays searchable and unchanged)."""
    if bundle is None:
        bundle = load_index(index_dir, verify_checksums=verify)
        return bundle, bundle.dense
    return bundle, DenseIndex(faiss.clone_index(bundle.dense.index))


def _embed_new(bundle: IndexBundle, keep: np.ndarray, new_texts: list[str], enc: CachedEncoder, batch_size: int,
               progress: bool) -> np.ndarray:
    """Vectors of ``new_texts``; an edited plan's untouched chunks keep their vectors (seeded from the index)."""
    gone = np.flatnonzero(~keep)
    enc.seed([index_text(bundle.documents[bundle.chunks[i].doc_id].meta, bundle.chunks[i]) for i in gone],
             bundle.vectors[gone])
    if not new_texts:
        return np.zeros((0, enc.dim), np.float32)
    return embed_texts(new_texts, enc, batch_size, progress)


def _updated_facts(bundle: IndexBundle, documents: dict[str, StoredDocument], drop: set[str],
                   new_docs: list[Document]) -> Facts | None:
    """Stored facts without the dropped plans, plus the new plans' facts; None when none are stored."""
    facts = bundle.facts if bundle.facts is not None else _load_facts(Path(bundle.directory), bundle.manifest)
    if facts is None:
        log.warning("no current stored facts: the updated index has none (the retriever extracts them at start-up;"
                    " a full `kehoach ingest` stores them again)", extra={"dir": str(bundle.directory)})
        return None
    facts = {d: f for d, f in facts.items() if d in documents and d not in drop}
    facts.update(extract_facts(documents[doc.doc_id] for doc in new_docs))
    return facts


def _updated_restorations(bundle: IndexBundle, documents: dict[str, StoredDocument], drop: set[str],
                          todo: list[tuple[Document, list[Chunk]]]) -> tuple[Restorations, list[str | None]]:
    """Stored restorations of the plans kept plus the new plans' (all restored again when none are stored), and
    the restored reading of each new chunk for the lexical index."""
    if bundle.restorations is None:
        out = restore_documents(documents.values())
    else:
        out = {d: r for d, r in bundle.restorations.items() if d in documents and d not in drop}
        out.update(restore_documents(documents[doc.doc_id] for doc, _ in todo))
    new_chunks = [c for _, cs in todo for c in cs]
    return out, chunk_restored_texts(new_chunks, {k: d.text for k, d in documents.items()}, out)


def _updated_manifest(out: IndexBundle, before: dict, encoder: Encoder, dense: DenseSettings, change: dict) -> dict:
    """The manifest of an updated index: the last 20 updates recorded, the creation time kept."""
    history = list(before.get("build", {}).get("updates", []))[-19:]
    history.append({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **change})
    manifest = _manifest(out, encoder, before["chunking"], dense, {**before.get("build", {}), "updates": history})
    manifest["created"] = before.get("created", manifest["created"])
    manifest["updated"] = history[-1]["at"]
    return manifest



def chunk_settings_of(index_dir: Path) -> ChunkSettings:
    """The chunking an index was built with (an update must chunk new plans the same way)."""
    path = Path(index_dir) / "manifest.json"
    if not path.exists():
        raise IndexError_(f"no index at {index_dir} to update; build it first with "
                          f"`kehoach ingest --index-dir {index_dir} corpus/`")
    return chunk_settings_in(json.loads(path.read_text("utf-8")))


def chunk_settings_in(manifest: dict) -> ChunkSettings:
    saved = manifest.get("chunking", {})
    return ChunkSettings(**{k: saved[k] for k in ChunkSettings.__dataclass_fields__ if k in saved})


def parse_plans(paths: list[Path], cs: ChunkSettings, max_bytes: int | None = None, progress: bool = True
                ) -> list[tuple[Document, list[Chunk]]]:
    """Each plan file under ``paths`` read and chunked with ``cs`` (the index's chunking)."""
    from ingest.chunking import chunk_document
    from ingest.pipeline import load_document
    from ingest.reader import MAX_PLAN_BYTES, discover

    docs = []
    for f in tqdm(discover(paths) if paths else [], desc="ingest", unit="plan", disable=not progress):
        doc = load_document(f, max_bytes or MAX_PLAN_BYTES)
        docs.append((doc, chunk_document(doc, cs)))
    return docs


def update_from_paths(index_dir: Path, paths: list[Path], removed: list[str], encoder: Encoder, *,
                      cache: EmbeddingCache | None = None, batch_size: int = 32, progress: bool = True,
                      max_bytes: int | None = None) -> UpdateResult:
    """Parse the plan files under ``paths`` with the index's chunking and :func:`update_index` with them."""
    docs = parse_plans(paths, chunk_settings_of(index_dir), max_bytes, progress)
    return update_index(index_dir, docs, removed, encoder, cache=cache, batch_size=batch_size, progress=progress)


def _laps(t: dict[str, float]) -> dict[str, float]:
    names = list(t)
    laps = {b: round(t[b] - t[a], 3) for a, b in zip(names, names[1:], strict=False)}
    laps["total"] = round(time.perf_counter() - t["start"], 3)
    return laps


# ---- writing and loading --------------------------------------------------------------------------
def write_index(bundle: IndexBundle, out_dir: Path, validate: Callable[[Path], None] | None = None) -> None:
    """Write every file into a fresh version folder, then flip the directory to it with one rename
    (:mod:`index.atomic`): a crash at any point leaves the previous index or the new one, never neither.
    ``validate(version_folder)`` runs before the flip; when it raises, the previous index stays current."""
    out_dir = out_dir.parent.resolve() / out_dir.name  # keep ``out_dir`` itself: it holds the pointer
    with atomic.staging(out_dir) as version:
        _write_files(bundle, version)
        atomic.checkpoint("files-written")
        if validate is not None:
            validate(version)
        atomic.publish(version, out_dir)
    bundle.directory = out_dir
    log.info("wrote index", extra={"dir": str(out_dir), "chunks": len(bundle.chunks)})


def _write_files(b: IndexBundle, d: Path) -> None:
    counts = b.lexical_counts
    if counts is None and (Path(b.directory) / COUNTS_FILE).exists():
        counts = b.counts()  # carry the counts over when a loaded bundle is rewritten
    with open(d / "documents.jsonl", "w", encoding="utf-8") as f:
        for doc in b.documents.values():
            f.write(json.dumps(doc.to_json(), ensure_ascii=False) + "\n")
    with open(d / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in b.chunks:
            f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
    np.save(d / "vectors.npy", b.vectors, allow_pickle=False)
    atomic.checkpoint("writing")
    if b.restorations is not None:
        write_restorations(b.restorations, b.documents, d / RESTORED_FILE)
    if b.facts is not None and set(b.facts) >= set(b.documents):
        _write_facts(b.facts, b.documents, d / FACTS_FILE)
    elif (b.manifest.get("facts") or {}).get("file"):
        b.manifest = {**b.manifest, "facts": None}  # not all plans have facts: store none rather than some
    b.dense.save(d / "dense.faiss")
    b.lexical.save(d)
    if counts is not None:
        counts.save(d)
    manifest = dict(b.manifest)
    names = [n for n in REQUIRED_FILES + OPTIONAL_FILES if n != "manifest.json" and (d / n).exists()]
    manifest["checksums"] = {n: _sha256_file(d / n) for n in names}
    b.manifest = manifest
    (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    for n in ["manifest.json", *names]:
        with open(d / n, "rb") as f:
            os.fsync(f.fileno())


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_index(directory: Path, verify_checksums: bool = True) -> IndexBundle:
    """Load and validate an index directory.  Raises :class:`IndexError_` naming the fix for *any* defect:
    a missing, malformed or mismatched file never escapes as another exception type."""
    directory = Path(directory)
    fix = f"build it with `kehoach ingest --index-dir {directory} corpus/`"
    atomic.recover(directory)
    real = atomic.resolve(directory)  # one version, even if a writer flips the pointer meanwhile
    if not (real / "manifest.json").exists():
        raise IndexError_(f"no index at {directory} (manifest.json missing); {fix}")
    missing = [n for n in REQUIRED_FILES if not (real / n).exists()]
    if missing:
        raise IndexError_(f"index at {directory} is incomplete (missing {', '.join(missing)}); {fix}")
    manifest = _read_manifest(real, directory, fix)
    _check_manifest(manifest, real, fix, verify_checksums)
    try:
        bundle = _read_bundle(real, directory, manifest)
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError, OSError) as exc:
        if isinstance(exc, IndexError_):
            raise
        raise IndexError_(f"index at {directory} cannot be read ({type(exc).__name__}: {exc}); {fix}") from exc
    _check_consistent(bundle, fix)
    return bundle


def _read_manifest(real: Path, directory: Path, fix: str) -> dict:
    try:
        manifest = json.loads((real / "manifest.json").read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexError_(f"{directory}/manifest.json is not valid JSON ({exc}); {fix}") from exc
    problem = manifest_problem(manifest)
    if problem:
        raise IndexError_(f"{directory}/manifest.json is malformed ({problem}); {fix}")
    return manifest


def _read_bundle(real: Path, directory: Path, manifest: dict) -> IndexBundle:
    docs = {}
    with open(real / "documents.jsonl", encoding="utf-8") as f:
        for line in f:
            d = StoredDocument.from_json(json.loads(line))
            docs[d.doc_id] = d
    with open(real / "chunks.jsonl", encoding="utf-8") as f:
        chunks = [Chunk.from_json(json.loads(x)) for x in f if x.strip()]
    vectors = np.load(real / "vectors.npy", allow_pickle=False)
    dense = DenseIndex.load(real / "dense.faiss")
    lexical = LexicalIndex.load(real)
    restorations = load_restorations(real, manifest, {k: d.text for k, d in docs.items()})
    return IndexBundle(directory, manifest, docs, chunks, vectors, dense, lexical, None, _load_facts(real, manifest),
                       restorations)


def _check_consistent(b: IndexBundle, fix: str) -> None:
    n, directory = b.manifest["chunk_count"], b.directory
    counts = {"chunks.jsonl": len(b.chunks), "vectors.npy": len(b.vectors), "dense.faiss": b.dense.ntotal,
              "lexical.npz": b.lexical.n_docs}
    bad = {k: v for k, v in counts.items() if v != n}
    if bad:
        raise IndexError_(f"index at {directory} is inconsistent: manifest says {n} chunks but {bad}; {fix}")
    if b.dense.dim != b.manifest["embedding"]["dim"]:
        raise IndexError_(f"FAISS dimension {b.dense.dim} != manifest {b.manifest['embedding']['dim']}; {fix}")
    unknown = {c.doc_id for c in b.chunks} - set(b.documents)
    if unknown:
        raise IndexError_(f"chunks refer to unknown documents {sorted(unknown)}; {fix}")


def _check_manifest(m: dict, directory: Path, fix: str, verify_checksums: bool) -> None:
    if m.get("format_version") != FORMAT_VERSION:
        raise IndexError_(f"index at {directory} has format {m.get('format_version')}, this code reads "
                          f"{FORMAT_VERSION}; {fix}")
    if m.get("normalisation") != NORMALISATION_VERSION:
        raise IndexError_(f"index at {directory} was built with text normalisation {m.get('normalisation')!r}, "
                          f"this code uses {NORMALISATION_VERSION!r}; {fix}")
    if verify_checksums:
        for name, expected in m.get("checksums", {}).items():
            if not (directory / name).exists():
                raise IndexError_(f"{directory}/{name} is listed in the manifest but missing; {fix}")
            if _sha256_file(directory / name) != expected:
                raise IndexError_(f"{directory}/{name} does not match its checksum (corrupted?); {fix}")


def check_encoder(bundle: IndexBundle, encoder: Encoder) -> None:
    """Queries must be embedded by the model that embedded the passages."""
    emb = bundle.manifest["embedding"]
    if emb["model"] != encoder.name or emb["dim"] != encoder.dim:
        (built, built_p), (loaded, loaded_p) = split_precision(emb["model"]), split_precision(encoder.name)
        hint = (f" (set KEHOACH_ENCODER_PRECISION={built_p} to query it, or re-ingest with {loaded_p})"
                if built == loaded and built_p != loaded_p else "")
        raise IndexError_(f"encoder mismatch: index at {bundle.directory} was built with {emb['model']} (dim "
                          f"{emb['dim']}) but the loaded model is {encoder.name} (dim {encoder.dim}){hint}; use "
                          f"the same model or re-ingest")
