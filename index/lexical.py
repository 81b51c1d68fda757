"""BM25 over accent-folded, OCR-repaired syllables and syllable bigrams.

Stored as a sparse term-major matrix of precomputed BM25 weights (``.npz`` of
plain arrays, never pickle) plus the vocabulary as JSON.  A query costs one
column gather per query term, so search stays fast at hundreds of thousands of
chunks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from ingest.textnorm import search_tokens

K1 = 1.2
B = 0.75


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
    def build(cls, texts: list[str]) -> LexicalIndex:
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for d, text in enumerate(texts):
            counts: dict[int, int] = {}
            toks = terms(text)
            lengths[d] = len(toks)
            for t in toks:
                tid = vocab.setdefault(t, len(vocab))
                counts[tid] = counts.get(tid, 0) + 1
            rows.extend([d] * len(counts))
            cols.extend(counts.keys())
            vals.extend(counts.values())
        tf = sparse.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(len(texts), len(vocab)))
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(vocab)).astype(np.float32)
        idf = np.log1p((len(texts) - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg = float(lengths.mean()) if len(texts) else 1.0
        norm = K1 * (1 - B + B * lengths / max(avg, 1e-9))
        tf = tf.tocoo()
        w = tf.data * (K1 + 1) / (tf.data + norm[tf.row]) * idf[tf.col]
        weights = sparse.csc_matrix((w.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        return cls(vocab=vocab, weights=weights, idf=idf)

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
