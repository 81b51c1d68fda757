"""Issue 13: the index directory never vanishes, and no malformed index escapes as a traceback.

Kill points: a real subprocess rewrites an index and is SIGKILLed (through ``index.atomic.FAULT_HOOK``) at each
named point of the write; afterwards the directory loads as the old or the new index and nothing is left over.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index import atomic
from index.store import IndexError_, build_index, load_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths

REPO = Path(__file__).resolve().parents[1]
PLAN_OLD = ("KẾ HOẠCH\nỦy ban nhân dân xã Tân Lập ban hành như sau:\nI. MỤC TIÊU\n1. Tỷ lệ tiêm chủng đạt 95%.\n"
            "IV. TỔ CHỨC THỰC HIỆN\n1. Trạm Y tế xã chủ trì khám sức khỏe định kỳ cho người dân.\n")
PLAN_NEW = ("KẾ HOẠCH\nĐảng ủy phường Hòa Bình ban hành như sau:\nI. MỤC TIÊU\n1. Tuổi thọ trung bình đạt 76 tuổi.\n"
            "IV. TỔ CHỨC THỰC HIỆN\n1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền Nghị quyết.\n")
KILL_POINTS = ("writing", "files-written", "before-flip", "after-flip", "after-links")
REWRITE = """
import os, signal, sys
from pathlib import Path
from index import atomic
from index.store import load_index, write_index
point = sys.argv[3]
atomic.FAULT_HOOK = lambda name: os.kill(os.getpid(), signal.SIGKILL) if name == point else None
write_index(load_index(Path(sys.argv[1])), Path(sys.argv[2]))
"""


def _build(tmp: Path, name: str, text: str, encoder) -> Path:
    src = tmp / f"src-{name}"
    src.mkdir()
    (src / f"{name}.txt").write_text(text, "utf-8")
    cs = ChunkSettings()
    docs, chunks = ingest_paths([src], cs, progress=False)
    out = tmp / name / "index"
    build_index(docs, chunks, encoder, out, cs, progress=False)
    return out


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory, encoder) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("atomic")
    return _build(tmp, "old", PLAN_OLD, encoder), _build(tmp, "new", PLAN_NEW, encoder)


def _copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _leftovers(out: Path) -> list[str]:
    """Temp links inside ``out``, folders beside it, versions other than the current one."""
    current = atomic.current_version(out)
    versions = [p.name for p in (out / atomic.VERSIONS).iterdir() if p != current] \
        if (out / atomic.VERSIONS).is_dir() else []
    beside = [p.name for p in out.parent.iterdir() if p.name != out.name]
    temps = [p.name for p in out.glob(".*.lnk-*")] + [p.name for p in out.glob(".current.tmp-*")]
    return sorted(versions + beside + temps)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_writer_killed_at_each_point_leaves_a_whole_index(two_indexes, tmp_path, point) -> None:
    old, new = two_indexes
    out = _copy_index(old, tmp_path / "live" / "index")
    proc = subprocess.run([sys.executable, "-c", REWRITE, str(new), str(out), point], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    loaded = load_index(out)  # recovers first
    expected = {"old"} if point in ("writing", "files-written", "before-flip") else {"new"}
    assert set(loaded.documents) == expected
    assert _leftovers(out) == []


def test_unkilled_rewrite_flips_and_cleans(two_indexes, tmp_path) -> None:
    old, new = two_indexes
    out = _copy_index(old, tmp_path / "index")
    proc = subprocess.run([sys.executable, "-c", REWRITE, str(new), str(out), "never"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(load_index(out).documents) == {"new"}
    assert (out / "manifest.json").is_symlink() and (out / atomic.CURRENT).is_symlink()
    assert _leftovers(out) == []


def test_flat_index_of_the_older_layout_is_migrated(two_indexes, tmp_path) -> None:
    old, new = two_indexes
    flat = tmp_path / "index"
    shutil.copytree(old, flat)  # follows the links: real files at the top, like an index of the older code
    assert set(load_index(flat).documents) == {"old"}
    proc = subprocess.run([sys.executable, "-c", REWRITE, str(new), str(flat), "never"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(load_index(flat).documents) == {"new"}
    assert _leftovers(flat) == []


def test_two_rename_leftovers_of_a_killed_older_writer_are_recovered(two_indexes, tmp_path) -> None:
    """The older writer renamed out → .out.old-PID, then tmp → out: a kill between left no index at all."""
    old, _ = two_indexes
    dead = 2**22 + 12345  # above the default pid_max: no such process
    shutil.copytree(old, tmp_path / f".index.old-{dead}")
    shutil.copytree(old, tmp_path / f".index.tmp-{dead}")
    out = tmp_path / "index"
    assert set(load_index(out).documents) == {"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]


# ---- malformed manifests and files: always the readable index error -----------------------------------------
def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text("utf-8"))


def _replace(out: Path, name: str, content: str | bytes) -> None:
    """Overwrite one file of the current version (through its link)."""
    real = (out / name).resolve()
    (real.write_bytes if isinstance(content, bytes) else real.write_text)(content)


def _without(m: dict, key: str) -> dict:
    return {k: v for k, v in m.items() if k != key}


MALFORMED = {
    "list": lambda m: [],
    "no-embedding": lambda m: _without(m, "embedding"),
    "no-chunk-count": lambda m: _without(m, "chunk_count"),
    "chunk-count-text": lambda m: {**m, "chunk_count": "many"},
    "dim-text": lambda m: {**m, "embedding": {**m["embedding"], "dim": "384"}},
    "documents-object": lambda m: {**m, "documents": {"a": 1}},
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_manifest_is_an_index_error(two_indexes, tmp_path, case) -> None:
    out = _copy_index(two_indexes[0], tmp_path / "index")
    _replace(out, "manifest.json", json.dumps(MALFORMED[case](_manifest(out))))
    with pytest.raises(IndexError_, match="kehoach ingest"):
        load_index(out)


def test_garbage_faiss_without_checksums_is_an_index_error(two_indexes, tmp_path) -> None:
    out = _copy_index(two_indexes[0], tmp_path / "index")
    _replace(out, "manifest.json", json.dumps(_without(_manifest(out), "checksums")))
    _replace(out, "dense.faiss", b"not a faiss index at all")
    with pytest.raises(IndexError_, match="cannot be read"):
        load_index(out)


def test_chunk_without_id_is_an_index_error(two_indexes, tmp_path) -> None:
    out = _copy_index(two_indexes[0], tmp_path / "index")
    _replace(out, "manifest.json", json.dumps(_without(_manifest(out), "checksums")))
    rows = [json.loads(x) for x in (out / "chunks.jsonl").read_text("utf-8").splitlines()]
    rows[0].pop("chunk_id")
    _replace(out, "chunks.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    with pytest.raises(IndexError_, match="KeyError"):
        load_index(out)


def test_cli_ask_exits_2_and_serve_app_answers_503_on_a_malformed_manifest(two_indexes, tmp_path, settings) -> None:
    from fastapi.testclient import TestClient

    from app.api import create_app

    out = _copy_index(two_indexes[0], tmp_path / "index")
    _replace(out, "manifest.json", "[]")
    env = {**os.environ, "KEHOACH_MODEL_CACHE": str(settings.model_cache)}
    proc = subprocess.run([sys.executable, "-m", "app.cli", "ask", "Ai chủ trì?", "--index-dir", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "malformed" in proc.stderr and "Traceback" not in proc.stderr
    with TestClient(create_app(settings.model_copy(update={"index_dir": out}))) as c:
        r = c.post("/api/ask", json={"question": "Ai chủ trì khám sức khỏe?"})
        assert r.status_code == 503 and "kehoach ingest" in r.json()["detail"]
        assert c.get("/health").status_code == 503
