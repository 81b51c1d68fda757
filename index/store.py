"""An index is one directory: manifest, documents, chunks, vectors, FAISS and lexical files.

Written atomically (built in a sibling temp folder, then swapped in) and
validated on load with errors that name the fix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from index.dense import DenseIndex
from index.encoder import Encoder
from index.lexical import K1, B, LexicalIndex
from ingest.chunking import ChunkSettings
from ingest.records import Chunk, DocMeta, Document, Section, meta_from_json, meta_to_json
from ingest.textnorm import NORMALISATION_VERSION

log = logging.getLogger("index.store")

FORMAT_VERSION = 1
REQUIRED_FILES = ("manifest.json", "documents.jsonl", "chunks.jsonl", "vectors.npy", "dense.faiss",
                  "lexical.npz", "lexical_vocab.json")


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


@dataclass
class IndexBundle:
    directory: Path
    manifest: dict
    documents: dict[str, StoredDocument]
    chunks: list[Chunk]
    vectors: np.ndarray
    dense: DenseIndex
    lexical: LexicalIndex

    def chunk_texts(self) -> list[str]:
        return [index_text(self.documents[c.doc_id].meta, c) for c in self.chunks]


def corpus_hash(documents: list[Document] | list[StoredDocument]) -> str:
    h = hashlib.sha256()
    for d in sorted(documents, key=lambda x: x.doc_id):
        h.update(f"{d.doc_id}:{d.sha256}\n".encode())
    return h.hexdigest()


def build_index(documents: list[Document], chunks: list[Chunk], encoder: Encoder, out_dir: Path,
                settings: ChunkSettings, batch_size: int = 32, progress: bool = True) -> IndexBundle:
    """Embed and index ``chunks`` and write the directory atomically."""
    if not chunks:
        raise ValueError("no chunks to index: the plans produced no text")
    stored = {d.doc_id: StoredDocument.from_document(d) for d in documents}
    texts = [index_text(stored[c.doc_id].meta, c) for c in chunks]
    t0 = time.perf_counter()
    vectors = encoder.encode_documents(texts, batch_size=batch_size, progress=progress)
    embed_s = time.perf_counter() - t0
    log.info("embedded chunks", extra={"chunks": len(texts), "seconds": round(embed_s, 2),
                                       "chunks_per_s": round(len(texts) / max(embed_s, 1e-9), 1)})
    bundle = IndexBundle(out_dir, {}, stored, list(chunks), vectors, DenseIndex.build(vectors),
                         LexicalIndex.build(texts))
    bundle.manifest = _manifest(bundle, encoder, settings)
    write_index(bundle, out_dir)
    return bundle


def _manifest(b: IndexBundle, encoder: Encoder, settings: ChunkSettings) -> dict:
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
        "chunking": settings.to_json(),
        "lexical": {"scheme": "bm25", "k1": K1, "b": B, "terms": "folded+ocr-repaired syllables and bigrams",
                    "n_terms": len(b.lexical.vocab)},
        "faiss": {"type": type(b.dense.index).__name__, "ntotal": b.dense.ntotal, "metric": "inner_product"},
        "corpus_hash": corpus_hash(list(b.documents.values())),
        "documents": [{"doc_id": d.doc_id, "source_file": d.source_file, "sha256": d.sha256,
                       "chunks": per_doc.get(d.doc_id, 0)} for d in b.documents.values()],
        "chunk_count": len(b.chunks),
    }


def write_index(bundle: IndexBundle, out_dir: Path) -> None:
    """Write every file into a temp sibling, then swap it in; a crash never leaves a half index."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_files(bundle, tmp)
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    bundle.directory = out_dir
    log.info("wrote index", extra={"dir": str(out_dir), "chunks": len(bundle.chunks)})


def _write_files(b: IndexBundle, d: Path) -> None:
    with open(d / "documents.jsonl", "w", encoding="utf-8") as f:
        for doc in b.documents.values():
            f.write(json.dumps(doc.to_json(), ensure_ascii=False) + "\n")
    with open(d / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in b.chunks:
            f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
    np.save(d / "vectors.npy", b.vectors, allow_pickle=False)
    b.dense.save(d / "dense.faiss")
    b.lexical.save(d)
    manifest = dict(b.manifest)
    manifest["checksums"] = {n: _sha256_file(d / n) for n in REQUIRED_FILES if n != "manifest.json"}
    b.manifest = manifest
    (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    for n in REQUIRED_FILES:
        with open(d / n, "rb") as f:
            os.fsync(f.fileno())


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_index(directory: Path, verify_checksums: bool = True) -> IndexBundle:
    """Load and validate an index directory.  Raises :class:`IndexError_` naming the fix."""
    directory = Path(directory)
    fix = f"build it with `kehoach ingest --index-dir {directory} corpus/`"
    if not (directory / "manifest.json").exists():
        raise IndexError_(f"no index at {directory} (manifest.json missing); {fix}")
    missing = [n for n in REQUIRED_FILES if not (directory / n).exists()]
    if missing:
        raise IndexError_(f"index at {directory} is incomplete (missing {', '.join(missing)}); {fix}")
    try:
        manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise IndexError_(f"{directory}/manifest.json is not valid JSON ({exc}); {fix}") from exc
    _check_manifest(manifest, directory, fix, verify_checksums)
    docs = {}
    for line in (directory / "documents.jsonl").read_text("utf-8").splitlines():
        d = StoredDocument.from_json(json.loads(line))
        docs[d.doc_id] = d
    chunks = [Chunk.from_json(json.loads(x)) for x in (directory / "chunks.jsonl").read_text("utf-8").splitlines()]
    vectors = np.load(directory / "vectors.npy", allow_pickle=False)
    dense = DenseIndex.load(directory / "dense.faiss")
    lexical = LexicalIndex.load(directory)
    n = manifest["chunk_count"]
    counts = {"chunks.jsonl": len(chunks), "vectors.npy": len(vectors), "dense.faiss": dense.ntotal,
              "lexical.npz": lexical.n_docs}
    bad = {k: v for k, v in counts.items() if v != n}
    if bad:
        raise IndexError_(f"index at {directory} is inconsistent: manifest says {n} chunks but {bad}; {fix}")
    if dense.dim != manifest["embedding"]["dim"]:
        raise IndexError_(f"FAISS dimension {dense.dim} != manifest {manifest['embedding']['dim']}; {fix}")
    unknown = {c.doc_id for c in chunks} - set(docs)
    if unknown:
        raise IndexError_(f"chunks refer to unknown documents {sorted(unknown)}; {fix}")
    return IndexBundle(directory, manifest, docs, chunks, vectors, dense, lexical)


def _check_manifest(m: dict, directory: Path, fix: str, verify_checksums: bool) -> None:
    if m.get("format_version") != FORMAT_VERSION:
        raise IndexError_(f"index at {directory} has format {m.get('format_version')}, this code reads "
                          f"{FORMAT_VERSION}; {fix}")
    if m.get("normalisation") != NORMALISATION_VERSION:
        raise IndexError_(f"index at {directory} was built with text normalisation {m.get('normalisation')!r}, "
                          f"this code uses {NORMALISATION_VERSION!r}; {fix}")
    if verify_checksums:
        for name, expected in m.get("checksums", {}).items():
            if _sha256_file(directory / name) != expected:
                raise IndexError_(f"{directory}/{name} does not match its checksum (corrupted?); {fix}")


def check_encoder(bundle: IndexBundle, encoder: Encoder) -> None:
    """Queries must be embedded by the model that embedded the passages."""
    emb = bundle.manifest["embedding"]
    if emb["model"] != encoder.name or emb["dim"] != encoder.dim:
        raise IndexError_(f"index at {bundle.directory} was built with {emb['model']} (dim {emb['dim']}) but the "
                          f"loaded model is {encoder.name} (dim {encoder.dim}); use the same model or re-ingest")
