"""Test stand-ins shared by test modules (not a test module itself)."""

import hashlib

import numpy as np

from ingest.textnorm import fold


class HashingEncoder:
    """Bag of folded words hashed into 64 dimensions, normalised: similar wording → similar vectors."""

    name, dim = "test-hashing-encoder", 64

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in fold(text).split():
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        return v / (np.linalg.norm(v) or 1.0)

    def encode_documents(self, texts, batch_size=32, progress=False):
        return np.stack([self._vec(t) for t in texts])

    def encode_queries(self, texts):
        return np.stack([self._vec(t) for t in texts])
