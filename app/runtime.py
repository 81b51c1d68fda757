"""Load the model and the index once; shared by the CLI, the API and the UI."""

from __future__ import annotations

import threading
from pathlib import Path

from app.model_build import ensure_e5_small
from app.settings import Settings
from index.backend import DirectoryStore, IndexStore
from index.encoder import SentenceTransformerEncoder
from index.store import IndexBundle
from retriever.search import HybridSettings
from retriever.service import Retriever

_DATABASES: dict[str, IndexStore] = {}  # one store (and its cached bundle) per database URL in a process
_DATABASES_LOCK = threading.Lock()


def model_path(settings: Settings) -> str:
    """The configured model, or the offline e5-small folder (built on first use)."""
    if settings.model:
        return settings.model
    return str(ensure_e5_small(Path(settings.model_cache)))


def load_encoder(settings: Settings) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(model_path(settings), precision=settings.encoder_precision)


def index_store(settings: Settings) -> IndexStore:
    """The one place the index's storage is chosen: ``KEHOACH_DATABASE_URL`` set → PostgreSQL, else the
    directory ``index_dir``."""
    url = settings.database_url.strip()
    if not url:
        return DirectoryStore(Path(settings.index_dir))
    with _DATABASES_LOCK:
        if url not in _DATABASES:
            try:
                from index.pg_store import PostgresStore
            except ImportError as exc:
                raise ValueError("KEHOACH_DATABASE_URL is set but the PostgreSQL client is not installed: "
                                 "pip install 'kehoach-qa[postgres]'") from exc
            _DATABASES[url] = PostgresStore(url)
        return _DATABASES[url]


def load_retriever(settings: Settings, encoder: SentenceTransformerEncoder | None = None,
                   bundle: IndexBundle | None = None) -> Retriever:
    bundle = bundle or index_store(settings).load()
    encoder = encoder or load_encoder(settings)
    retriever = Retriever(bundle, encoder, HybridSettings(fusion=settings.fusion))
    if settings.db_dense_search and settings.database_url.strip():
        from index.pg_dense import PgDenseIndex

        retriever.searcher.dense.index = PgDenseIndex(settings.database_url.strip(),
                                                      [c.chunk_id for c in bundle.chunks], bundle.dense.dim)
    return retriever
