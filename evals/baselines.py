"""Baseline systems, scored by the same metrics as the project in the same run.

* :class:`BM25Baseline` — BM25 (k1 1.2, b 0.75, unigrams only) over *plain syllables*: the text lower-cased and
  split on non-word characters, with diacritics kept, no accent folding, no OCR repair, no bigrams, no metadata
  header.  It runs over two chunkings: the project's own chunks (isolates the project's normalisation, fusion and
  answer composition) and fixed 1000/200-character chunks (the default pipeline's).
* :class:`DenseBaseline` — the default dense pipeline: langchain's ``RecursiveCharacterTextSplitter`` with its
  default separators at 1000/200 characters over each plan, the same e5 model, ``faiss.IndexFlatIP``.

Both answer with their top passage verbatim and never abstain.  Citations carry ``start``/``end`` offsets into
the NFC file text, so evidence-keyed hit@k works exactly as for the project.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter
from scipy import sparse

from index.encoder import Encoder
from index.store import IndexBundle
from ingest.textnorm import nfc

FIXED_CHUNK_SIZE = 1000
FIXED_CHUNK_OVERLAP = 200
BM25_K1 = 1.2
BM25_B = 0.75
_SYLLABLE_RE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Passage:
    """A retrievable unit: ``text`` is exactly ``file_text[start:end]``."""

    passage_id: str
    source_file: str
    text: str
    start: int
    end: int


def plain_syllables(text: str) -> list[str]:
    """Lower-cased syllables with their diacritics (no folding, no OCR repair): "Đảng ủy" → ["đảng", "ủy"]."""
    return _SYLLABLE_RE.findall(nfc(text).lower())


def fixed_chunks(source_file: str, text: str, size: int = FIXED_CHUNK_SIZE,
                 overlap: int = FIXED_CHUNK_OVERLAP) -> list[Passage]:
    """langchain's default recursive splitter (separators "\\n\\n", "\\n", " ", "") with start offsets."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap, add_start_index=True)
    out: list[Passage] = []
    stem = Path(source_file).stem
    for i, doc in enumerate(splitter.create_documents([text])):
        piece, start = doc.page_content, int(doc.metadata["start_index"])
        if start < 0 or text[start:start + len(piece)] != piece:
            start = text.find(piece)
        if start < 0:
            raise RuntimeError(f"splitter returned text not found in {source_file}")
        out.append(Passage(f"{stem}#f{i:04d}", source_file, piece, start, start + len(piece)))
    return out


def fixed_passages(files: dict[str, str]) -> list[Passage]:
    """Fixed-size passages of every ``{source_file: NFC text}``."""
    return [p for name, text in sorted(files.items()) for p in fixed_chunks(name, text)]


def read_corpus(corpus_dir: Path) -> dict[str, str]:
    """``{file name: NFC text}`` of the plan text files, read as the gold evidence locator reads them."""
    files = sorted(p for p in Path(corpus_dir).iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".md"))
    if not files:
        raise FileNotFoundError(f"{corpus_dir}: no .txt/.md plan files for the baselines")
    return {p.name: nfc(p.read_text(encoding="utf-8")) for p in files}


class PlainBM25:
    """Okapi BM25 over :func:`plain_syllables` (same k1/b and IDF formula as the project's lexical index)."""

    def __init__(self, texts: Sequence[str], k1: float = BM25_K1, b: float = BM25_B) -> None:
        self.vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for d, text in enumerate(texts):
            counts: dict[int, int] = {}
            toks = plain_syllables(text)
            lengths[d] = len(toks)
            for t in toks:
                tid = self.vocab.setdefault(t, len(self.vocab))
                counts[tid] = counts.get(tid, 0) + 1
            rows += [d] * len(counts)
            cols += list(counts)
            vals += list(counts.values())
        shape = (len(texts), len(self.vocab))
        tf = sparse.coo_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=shape)
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=shape[1]).astype(np.float32)
        self.idf = np.log1p((len(texts) - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()) if len(texts) else 1.0, 1e-9))
        w = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * self.idf[tf.col]
        self.weights = sparse.csc_matrix((w.astype(np.float32), (tf.row, tf.col)), shape=shape)

    def scores(self, query: str) -> np.ndarray:
        ids = [self.vocab[t] for t in plain_syllables(query) if t in self.vocab]
        if not ids:
            return np.zeros(self.weights.shape[0], dtype=np.float32)
        return np.asarray(self.weights[:, ids].sum(axis=1)).ravel().astype(np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """``(row, score)`` of the best ``k`` rows with a positive score, best first (ties by row)."""
        s = self.scores(query)
        rows = np.flatnonzero(s > 0)
        order = sorted(rows.tolist(), key=lambda r: (-float(s[r]), r))[:k]
        return [(r, float(s[r])) for r in order]


class PassageSystem:
    """Top passages as citations, the top passage verbatim as the answer (never abstains)."""

    name = "passages"

    def __init__(self, passages: Sequence[Passage]) -> None:
        if not passages:
            raise ValueError(f"{self.name}: no passages to index")
        self.passages = list(passages)

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        raise NotImplementedError

    def ask(self, question: str, k: int = 5, qid: str | None = None) -> dict:
        hits = self.search(question, k)
        cits = [self._citation(rank, row, score) for rank, (row, score) in enumerate(hits, start=1)]
        return {"id": qid, "question": question, "answer": cits[0]["text"] if cits else "",
                "abstained": False, "citations": cits}

    def _citation(self, rank: int, row: int, score: float) -> dict:
        p = self.passages[row]
        return {"rank": rank, "chunk_id": p.passage_id, "doc_id": Path(p.source_file).stem, "doc_number": None,
                "doc_type": None, "issuer": None, "date": None, "source_file": p.source_file, "section": "",
                "text": p.text, "score": round(score, 6), "start": p.start, "end": p.end}


class BM25Baseline(PassageSystem):
    name = "bm25-plain"

    def __init__(self, passages: Sequence[Passage]) -> None:
        super().__init__(passages)
        self.bm25 = PlainBM25([p.text for p in self.passages])

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        return self.bm25.search(question, k)


class DenseBaseline(PassageSystem):
    name = "dense-default"

    def __init__(self, passages: Sequence[Passage], encoder: Encoder, batch_size: int = 32,
                 progress: bool = False) -> None:
        super().__init__(passages)
        self.encoder = encoder
        vecs = encoder.encode_documents([p.text for p in self.passages], batch_size=batch_size, progress=progress)
        self.index = faiss.IndexFlatIP(int(vecs.shape[1]))
        self.index.add(np.ascontiguousarray(vecs, dtype=np.float32))

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        q = self.encoder.encode_queries([question])
        scores, rows = self.index.search(np.ascontiguousarray(q, dtype=np.float32), min(k, self.index.ntotal))
        return [(int(r), float(s)) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0]


def project_passages(bundle: IndexBundle) -> list[Passage]:
    """The project's own chunks (text only, no metadata header) as baseline passages."""
    return [Passage(c.chunk_id, bundle.documents[c.doc_id].source_file, c.text, c.start, c.end)
            for c in bundle.chunks]
