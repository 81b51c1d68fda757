"""Shared fixtures: the real offline model, an index built once per session, and a retriever over it.

Set ``KEHOACH_TEST_INDEX_DIR`` (e.g. to ``var/index`` after ``kehoach ingest``) to reuse a built index instead
of building one into a temporary folder (about 40 s).
"""

from __future__ import annotations

import os
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
