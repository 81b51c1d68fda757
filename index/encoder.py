"""Sentence encoders: the seam between the index and any embedding model."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger("index.encoder")

# "fp32": the model as saved.  "int8": every nn.Linear quantized dynamically once at load (int8 weights per
# output channel, activations quantized per batch at run time).  "int8-mixed": the same, except the linear
# layers that project *down* (more inputs than outputs: a transformer's feed-forward output, which receives the
# activation outliers) stay fp32 — slower than int8, much closer to fp32 (docs/BENCHMARKS.md).  A quantized
# model's name carries its precision as a suffix, so the embedding cache and the index manifest (both keyed by
# ``Encoder.name``) never mix its vectors with another precision's.
PRECISIONS = ("fp32", "int8", "int8-mixed")


class Encoder(Protocol):
    """What the index builder and the retriever need from an embedding model."""

    name: str
    dim: int

    def encode_documents(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEncoder:
    """Any sentence-transformers model; e5 models get their ``query: `` / ``passage: `` prompts.

    Vectors are float32 and L2-normalised, so inner product = cosine.  ``precision="int8"`` (or
    ``"int8-mixed"``) quantizes the model's linear layers (see :data:`PRECISIONS`); its ``name`` is then the
    model's name + ``-int8`` (``-int8-mixed``).
    ``encode`` sorts the texts by length before batching (sentence-transformers does it inside ``encode``), so
    a batch pads to about its own longest text.
    """

    def __init__(self, model: str | Path, device: str = "cpu", precision: str = "fp32") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"encoder precision {precision!r} is not one of {', '.join(PRECISIONS)}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub at run time
        from sentence_transformers import SentenceTransformer

        path = Path(model)
        if not path.exists() and ("/" in str(model) or str(model).startswith(".")) and not _looks_like_hub_id(model):
            raise FileNotFoundError(f"embedding model folder {model} not found; build it with `kehoach model`")
        self.model = SentenceTransformer(str(model), device=device)
        self.precision = precision
        self.name = path.name if path.exists() else str(model)
        if precision != "fp32":
            if device != "cpu":
                raise ValueError(f"encoder precision {precision} runs on the CPU only, not on {device}")
            quantize_linear_int8(self.model, keep_down_projections=precision == "int8-mixed")
            self.name += "-" + precision
        self.dim = int(self.model.get_embedding_dimension())
        prompts = getattr(self.model, "prompts", {}) or {}
        self._has_prompts = "query" in prompts and "document" in prompts
        log.info("loaded encoder", extra={"model": self.name, "dim": self.dim, "prompts": self._has_prompts,
                                          "precision": precision})

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


def split_precision(name: str) -> tuple[str, str]:
    """``"multilingual-e5-small-int8"`` → ``("multilingual-e5-small", "int8")``; a name without a precision
    suffix is fp32."""
    for precision in sorted(PRECISIONS[1:], key=len, reverse=True):
        if name.endswith("-" + precision):
            return name[: -len(precision) - 1], precision
    return name, "fp32"


def _looks_like_hub_id(model: str | Path) -> bool:
    s = str(model)
    return s.count("/") == 1 and not s.startswith((".", "/")) and not Path(s).exists()


def quantize_linear_int8(model: Any, keep_down_projections: bool = False) -> Any:
    """Replace the ``nn.Linear`` layers of ``model`` in place by torch's dynamic int8 version (weights int8 per
    output channel, activations quantized per batch at run time); embeddings, layer norms and the attention
    products stay fp32.  ``keep_down_projections`` leaves the layers with more inputs than outputs in fp32."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    linear = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    spec = {n: per_channel_dynamic_qconfig for n, m in linear
            if not (keep_down_projections and m.in_features > m.out_features)}
    with warnings.catch_warnings():  # torch.ao.quantization is marked deprecated (torchao) but still shipped
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantize_dynamic(model, spec, dtype=torch.qint8, inplace=True)
    log.info("quantized linear layers", extra={"int8": len(spec), "fp32": len(linear) - len(spec)})
    return model
