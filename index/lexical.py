"""BM25 over accent-folded, OCR-repaired syllables and syllable bigrams.

Stored as a sparse term-major matrix of precomputed BM25 weights (``.npz`` of
plain arrays, never pickle) plus the vocabulary as JSON.  A query costs one
column gather per query term, so search stays fast at hundreds of thousands of
chunks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from tqdm import tqdm

from index.restored import extra_terms
from ingest.textnorm import search_tokens

K1 = 1.2
B = 0.75
COUNTS_FILE = "lexical_counts.npz"  # optional file of an index: counts that make BM25 updatable


def terms(text: str) -> list[str]:
    """Unigrams and bigrams of the folded, OCR-repaired syllables."""
    toks = search_tokens(text)
    return toks + [f"{a}_{b}" for a, b in zip(toks, toks[1:], strict=False)]


@dataclass
class LexicalIndex:
    vocab: dict[str, int]
    weights: sparse.csc_matrix  # (n_docs, n_terms) BM25 weight of term t in doc d
    idf: np.ndarray

    @property
    def n_docs(self) -> int:
        return int(self.weights.shape[0])

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        """BM25 over ``texts`` (see :func:`build_lexical` for the variant that keeps the counts)."""
        return build_lexical(texts)[0]

    def query_ids(self, query: str) -> list[int]:
        return [self.vocab[t] for t in terms(query) if t in self.vocab]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (zeros where no term matches)."""
        ids = self.query_ids(query)
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        sub = self.weights[:, ids]
        return np.asarray(sub.sum(axis=1)).ravel().astype(np.float32)

    def save(self, directory: Path) -> None:
        w = self.weights
        np.savez(directory / "lexical.npz", data=w.data, indices=w.indices, indptr=w.indptr,
                 shape=np.asarray(w.shape), idf=self.idf)
        terms_list = [None] * len(self.vocab)
        for t, i in self.vocab.items():
            terms_list[i] = t
        (directory / "lexical_vocab.json").write_text(json.dumps(terms_list, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        with np.load(directory / "lexical.npz", allow_pickle=False) as z:
            shape = tuple(int(x) for x in z["shape"])
            weights = sparse.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
            idf = z["idf"]
        terms_list = json.loads((directory / "lexical_vocab.json").read_text("utf-8"))
        if len(terms_list) != shape[1]:
            raise ValueError(f"{directory}: lexical vocabulary ({len(terms_list)}) does not match the matrix "
                             f"({shape[1]} terms); rebuild the index with `kehoach ingest`")
        return cls(vocab={t: i for i, t in enumerate(terms_list)}, weights=weights, idf=idf)


# ---- lexical term counts (what makes BM25 updatable) ------------------------------------------------
@dataclass
class LexicalCounts:
    """Raw term counts aligned with ``LexicalIndex.weights.data`` (same CSC structure) and token counts."""

    counts: np.ndarray  # uint16 (uint32 if a count overflows), one per stored weight
    lengths: np.ndarray  # float32 terms per chunk (BM25 document length)

    def save(self, directory: Path) -> None:
        np.savez(directory / COUNTS_FILE, counts=self.counts, lengths=self.lengths)

    @classmethod
    def load(cls, directory: Path) -> LexicalCounts:
        with np.load(directory / COUNTS_FILE, allow_pickle=False) as z:
            return cls(z["counts"], z["lengths"])


def count_matrix(texts: Sequence[str], vocab: dict[str, int], progress: bool = False, block: int = 4096,
                 restored: Sequence[str | None] | None = None) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Term counts of ``texts`` (rows) over ``vocab``, which grows with new terms in order of appearance.

    ``restored``: per text, the restored reading of an OCR passage (or None); its terms the printed text lacks
    are counted too (:func:`index.restored.extra_terms`).

    Python lists are turned into compact arrays every ``block`` texts, so memory stays near the final
    matrix's size (8 bytes per stored count) even at hundreds of thousands of chunks."""
    cols_parts: list[np.ndarray] = []
    vals_parts: list[np.ndarray] = []
    row_nnz = np.zeros(len(texts), dtype=np.int64)
    lengths = np.zeros(len(texts), dtype=np.float32)
    cols: list[int] = []
    vals: list[int] = []
    for d, text in enumerate(tqdm(texts, desc="lexical", unit="chunk", disable=not progress, mininterval=2)):
        counts: dict[int, int] = {}
        toks = terms(text)
        lengths[d] = len(toks)  # the printed length: a restored reading is another spelling, not more text
        if restored is not None and restored[d]:
            toks += extra_terms(toks, restored[d])
        for t in toks:
            tid = vocab.setdefault(t, len(vocab))
            counts[tid] = counts.get(tid, 0) + 1
        cols.extend(counts.keys())
        vals.extend(counts.values())
        row_nnz[d] = len(counts)
        if (d + 1) % block == 0:
            cols_parts.append(np.asarray(cols, dtype=np.int32))
            vals_parts.append(np.asarray(vals, dtype=np.uint32))
            cols, vals = [], []
    cols_parts.append(np.asarray(cols, dtype=np.int32))
    vals_parts.append(np.asarray(vals, dtype=np.uint32))
    indptr = np.concatenate([[0], np.cumsum(row_nnz)]).astype(np.int64)
    tf = sparse.csr_matrix((np.concatenate(vals_parts), np.concatenate(cols_parts), indptr),
                           shape=(len(texts), len(vocab)))
    return tf, lengths


def bm25_weights(tf: sparse.spmatrix, lengths: np.ndarray) -> tuple[sparse.csc_matrix, np.ndarray, np.ndarray]:
    """BM25 weights (term-major CSC), IDF, and the raw counts aligned with ``weights.data``.

    The one place the BM25 formula lives: full builds, incremental updates and ``LexicalIndex.build`` all use it."""
    tf = sparse.csc_matrix(tf)
    tf.sort_indices()
    n_docs = tf.shape[0]
    counts = tf.data
    data = counts.astype(np.float32)
    df = np.diff(tf.indptr).astype(np.float32)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    avg = float(lengths.mean()) if n_docs else 1.0
    norm = K1 * (1 - B + B * lengths / max(avg, 1e-9))
    col_of = np.repeat(np.arange(tf.shape[1], dtype=np.int64), np.diff(tf.indptr))
    w = data * (K1 + 1) / (data + norm[tf.indices]) * idf[col_of]
    weights = sparse.csc_matrix((w.astype(np.float32), tf.indices.astype(np.int32), tf.indptr.astype(np.int32)),
                                shape=tf.shape)
    compact = counts.astype(np.uint16) if counts.size == 0 or counts.max() <= np.iinfo(np.uint16).max \
        else counts.astype(np.uint32)
    return weights, idf, compact


def build_lexical(texts: Sequence[str], progress: bool = False, restored: Sequence[str | None] | None = None
                  ) -> tuple[LexicalIndex, LexicalCounts]:
    """BM25 over ``texts`` (and the restored readings of OCR passages) plus the counts an update needs."""
    vocab: dict[str, int] = {}
    tf, lengths = count_matrix(texts, vocab, progress, restored=restored)
    weights, idf, counts = bm25_weights(tf, lengths)
    return LexicalIndex(vocab=vocab, weights=weights, idf=idf), LexicalCounts(counts, lengths)


def update_lexical(lex: LexicalIndex, counts: LexicalCounts, keep: np.ndarray, new_texts: Sequence[str],
                   new_restored: Sequence[str | None] | None = None) -> tuple[LexicalIndex, LexicalCounts]:
    """BM25 after dropping rows where ``keep`` is False and appending ``new_texts``: only the new texts are
    tokenised; every weight is recomputed (N, document frequencies and average length change) from counts.
    Terms no chunk uses any more leave the vocabulary, as in a full rebuild."""
    w = lex.weights
    old = sparse.csc_matrix((counts.counts.astype(np.uint32), w.indices, w.indptr), shape=w.shape).tocsr()[keep]
    vocab = dict(lex.vocab)
    new_tf, new_len = count_matrix(new_texts, vocab, restored=new_restored)
    old.resize((old.shape[0], len(vocab)))
    tf = sparse.vstack([old, new_tf], format="csc")
    lengths = np.concatenate([counts.lengths[keep], new_len]).astype(np.float32)
    used = np.diff(tf.indptr) > 0
    if not used.all():
        tf = tf[:, np.flatnonzero(used)]
        id_map = np.cumsum(used) - 1
        vocab = {t: int(id_map[i]) for t, i in vocab.items() if used[i]}
    weights, idf, compact = bm25_weights(tf, lengths)
    return LexicalIndex(vocab=vocab, weights=weights, idf=idf), LexicalCounts(compact, lengths)
