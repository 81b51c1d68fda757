"""Load the model and the index once; shared by the CLI, the API and the UI."""

from __future__ import annotations

from pathlib import Path

from app.model_build import ensure_e5_small
from app.settings import Settings
from index.encoder import SentenceTransformerEncoder
from index.store import IndexBundle, load_index
from retriever.search import HybridSettings
from retriever.service import Retriever


def model_path(settings: Settings) -> str:
    """The configured model, or the offline e5-small folder (built on first use)."""
    if settings.model:
        return settings.model
    return str(ensure_e5_small(Path(settings.model_cache)))


def load_encoder(settings: Settings) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(model_path(settings), precision=settings.encoder_precision)


def load_retriever(settings: Settings, encoder: SentenceTransformerEncoder | None = None,
                   bundle: IndexBundle | None = None) -> Retriever:
    bundle = bundle or load_index(Path(settings.index_dir))
    encoder = encoder or load_encoder(settings)
    return Retriever(bundle, encoder, HybridSettings(fusion=settings.fusion))
