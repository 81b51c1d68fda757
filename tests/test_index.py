"""Index directory: build → save → load round trip, validation on load, FAISS vs NumPy, lexical BM25."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.dense import DenseIndex
from index.lexical import LexicalIndex, terms
from index.store import IndexError_, build_index, check_encoder, load_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TINY = {
    "a.txt": "KẾ HOẠCH\nĐảng ủy xã Định Hóa ban hành như sau:\nI. MỤC TIÊU\n1. Tuổi thọ trung bình đạt 75,5 tuổi.\n"
             "IV. TỔ CHỨC THỰC HIỆN\n1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền Nghị quyết.\n",
    "b.txt": "KE HOACH\nPang uy xa Ha Pong ban hanh nhu sau:\nI. MUC TIEU\n1. Ty le tiem chung dat 95%.\n"
             "IV. TO CHUC THUC HIEN\n1. Tram Y te xa chu tri kham suc khoe dinh ky.\n",
}


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory, encoder):
    src = tmp_path_factory.mktemp("tiny")
    for name, text in TINY.items():
        (src / name).write_text(text, "utf-8")
    out = tmp_path_factory.mktemp("idx") / "index"
    cs = ChunkSettings()
    docs, chunks = ingest_paths([src], cs, progress=False)
    bundle = build_index(docs, chunks, encoder, out, cs, progress=False)
    return out, bundle


def test_round_trip(tiny_index, encoder):
    out, built = tiny_index
    loaded = load_index(out)
    assert [c.chunk_id for c in loaded.chunks] == [c.chunk_id for c in built.chunks]
    assert np.allclose(loaded.vectors, built.vectors)
    assert loaded.manifest["chunk_count"] == len(built.chunks)
    assert loaded.manifest["embedding"] == {"model": encoder.name, "dim": 384, "normalized": True,
                                            "query_prompt": "query: ", "passage_prompt": "passage: "}
    assert set(loaded.documents) == {"a", "b"}
    assert loaded.documents["a"].meta.issuer == "Đảng ủy xã Định Hóa"
    check_encoder(loaded, encoder)
    assert not list(out.parent.glob(".index.tmp-*"))  # temp folder swapped in, nothing left behind


def test_vectors_are_normalised(tiny_index):
    _, b = tiny_index
    assert np.allclose(np.linalg.norm(b.vectors, axis=1), 1.0, atol=1e-4)


def test_faiss_matches_numpy(encoder, retriever):
    b = retriever.bundle
    q = encoder.encode_queries(["Cơ quan nào chủ trì tuyên truyền Nghị quyết 72?"])[0]
    scores, rows = b.dense.search(q, 10)
    expected = np.argsort(-(b.vectors @ q), kind="stable")[:10]
    assert list(rows) == list(expected)
    assert np.allclose(scores, (b.vectors @ q)[expected], atol=1e-5)


def test_dense_search_drops_faiss_padding():
    v = np.eye(3, dtype=np.float32)
    idx = DenseIndex.build(v)
    scores, rows = idx.search(v[0], 10)  # k larger than the index
    assert len(rows) == 3 and rows[0] == 0 and (rows >= 0).all()


def test_lexical_bm25_matches_ocr_and_accent_free():
    lex = LexicalIndex.build(["Pang uy xa Ha Pong chu tri", "Phòng Văn hóa chủ trì", "ngân sách giao thông"])
    s = lex.scores("Đảng ủy xã Hà Đông chủ trì")
    assert int(np.argmax(s)) == 0
    s2 = lex.scores("phong van hoa chu tri")
    assert int(np.argmax(s2)) == 1
    assert lex.scores("khong co tu nao")[2] == 0
    assert "chu_tri" in terms("chủ trì")


def test_lexical_save_load(tmp_path):
    lex = LexicalIndex.build(["một hai ba", "ba bốn năm"])
    lex.save(tmp_path)
    back = LexicalIndex.load(tmp_path)
    assert np.allclose(back.scores("ba"), lex.scores("ba"))


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_load_rejects_missing_and_corrupt(tiny_index, tmp_path):
    out, _ = tiny_index
    with pytest.raises(IndexError_, match="kehoach ingest"):
        load_index(tmp_path / "nothing")
    d = _copy(out, tmp_path / "missing_file")
    (d / "dense.faiss").unlink()
    with pytest.raises(IndexError_, match="incomplete"):
        load_index(d)
    d = _copy(out, tmp_path / "corrupt")
    with open(d / "chunks.jsonl", "a", encoding="utf-8") as f:
        f.write("\n")
    with pytest.raises(IndexError_, match="checksum"):
        load_index(d)


def test_load_rejects_version_and_normalisation_mismatch(tiny_index, tmp_path):
    out, _ = tiny_index
    for key, value, msg in [("format_version", 99, "format"), ("normalisation", "other", "normalisation")]:
        d = _copy(out, tmp_path / key)
        m = json.loads((d / "manifest.json").read_text("utf-8"))
        m[key] = value
        (d / "manifest.json").write_text(json.dumps(m), "utf-8")
        with pytest.raises(IndexError_, match=msg):
            load_index(d)


def test_check_encoder_mismatch(tiny_index):
    out, _ = tiny_index
    b = load_index(out)

    class Other:
        name, dim = "other-model", 384

    with pytest.raises(IndexError_, match="other-model"):
        check_encoder(b, Other())


def test_rebuild_replaces_atomically(tiny_index, encoder, tmp_path):
    out, built = tiny_index
    d = _copy(out, tmp_path / "idx")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(TINY["a.txt"], "utf-8")
    cs = ChunkSettings()
    docs, chunks = ingest_paths([src], cs, progress=False)
    build_index(docs, chunks, encoder, d, cs, progress=False)
    assert set(load_index(d).documents) == {"a"}
    assert not list(tmp_path.glob(".idx.*"))


def test_build_refuses_empty(encoder, tmp_path):
    with pytest.raises(ValueError, match="no chunks"):
        build_index([], [], encoder, tmp_path / "x", ChunkSettings(), progress=False)
