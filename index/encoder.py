"""Sentence encoders: the seam between the index and any embedding model."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger("index.encoder")


class Encoder(Protocol):
    """What the index builder and the retriever need from an embedding model."""

    name: str
    dim: int

    def encode_documents(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEncoder:
    """Any sentence-transformers model; e5 models get their ``query: `` / ``passage: `` prompts.

    Vectors are float32 and L2-normalised, so inner product = cosine.
    """

    def __init__(self, model: str | Path, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub at run time
        from sentence_transformers import SentenceTransformer

        path = Path(model)
        if not path.exists() and ("/" in str(model) or str(model).startswith(".")) and not _looks_like_hub_id(model):
            raise FileNotFoundError(f"embedding model folder {model} not found; build it with `kehoach model`")
        self.model = SentenceTransformer(str(model), device=device)
        self.name = path.name if path.exists() else str(model)
        self.dim = int(self.model.get_embedding_dimension())
        prompts = getattr(self.model, "prompts", {}) or {}
        self._has_prompts = "query" in prompts and "document" in prompts
        log.info("loaded encoder", extra={"model": self.name, "dim": self.dim, "prompts": self._has_prompts})

    def encode_documents(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if self._has_prompts:
            vecs = self.model.encode_document(texts, batch_size=batch_size, normalize_embeddings=True,
                                              show_progress_bar=progress, convert_to_numpy=True)
        else:
            vecs = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                     show_progress_bar=progress, convert_to_numpy=True)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if self._has_prompts:
            vecs = self.model.encode_query(texts, normalize_embeddings=True, convert_to_numpy=True)
        else:
            vecs = self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return np.ascontiguousarray(vecs, dtype=np.float32)


def _looks_like_hub_id(model: str | Path) -> bool:
    s = str(model)
    return s.count("/") == 1 and not s.startswith((".", "/")) and not Path(s).exists()
