"""Incremental ingestion: only changed texts are embedded, results equal a full rebuild; embedding cache; the
FAISS index type chosen by size."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.dense import DenseIndex, DenseSettings
from index.embed_cache import CachedEncoder, EmbeddingCache, text_key
from index.lexical import COUNTS_FILE, K1, B, LexicalIndex, build_lexical, terms
from index.store import build_index, index_text, load_index, update_index
from ingest.chunking import ChunkSettings, chunk_document
from ingest.pipeline import ingest_paths, load_document

PLAN_A = """KẾ HOẠCH
Đảng ủy xã Định Hóa ban hành như sau:
I. MỤC TIÊU
1. Tuổi thọ trung bình đạt 75,5 tuổi; tỷ lệ tiêm chủng mở rộng đạt trên 95% trẻ em trong độ tuổi.
2. Tỷ lệ người dân được khám sức khỏe định kỳ ít nhất một lần mỗi năm đạt 90%.
II. NHIỆM VỤ, GIẢI PHÁP
1. Tăng cường tuyên truyền, phổ biến Nghị quyết số 72-NQ/TW đến cán bộ, đảng viên và Nhân dân trên địa bàn xã.
2. Đầu tư cơ sở vật chất, trang thiết bị cho Trạm Y tế xã bảo đảm khám chữa bệnh ban đầu.
IV. TỔ CHỨC THỰC HIỆN
1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền Nghị quyết, báo cáo kết quả hằng năm.
2. Trạm Y tế xã chủ trì tổ chức Ngày Sức khỏe toàn dân vào tháng 4 hằng năm.
"""
PLAN_B = """KE HOACH
Pang uy xa Ha Pong ban hanh nhu sau:
I. MUC TIEU
1. Ty le tiem chung dat 95%, ty le dan so duoc quan ly suc khoe dat 90%.
II. NHIEM VU, GIAI PHAP
1. Nang cao chat luong kham chua benh tai tram y te xa, phat trien y te co so.
IV. TO CHUC THUC HIEN
1. Tram Y te xa chu tri kham suc khoe dinh ky cho nguoi cao tuoi.
2. Phong Kinh te phoi hop bo tri kinh phi thuc hien ke hoach.
"""
PLAN_C = """KẾ HOẠCH
Ủy ban nhân dân xã Mường La ban hành như sau:
I. MỤC TIÊU
1. Đến năm 2030, 100% trạm y tế xã có bác sĩ làm việc thường xuyên.
IV. TỔ CHỨC THỰC HIỆN
1. Trung tâm Y tế chủ trì hướng dẫn chuyên môn cho trạm y tế các xã.
"""
QUERIES = ["Cơ quan nào chủ trì tổ chức Ngày Sức khỏe toàn dân?", "tram y te xa chu tri kham suc khoe",
           "tỷ lệ tiêm chủng đạt bao nhiêu", "bác sĩ làm việc tại trạm y tế", "kinh phí thực hiện kế hoạch"]


class CountingEncoder:
    """Wraps the real encoder and records every document text it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts: list[str] = []

    def encode_documents(self, texts, batch_size=32, progress=False):
        self.texts.extend(texts)
        return self.inner.encode_documents(texts, batch_size=batch_size, progress=False)

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)


def _write(folder: Path, plans: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in plans.items():
        (folder / name).write_text(text, "utf-8")
    return [folder / n for n in plans]


def _doc(path: Path):
    doc = load_document(path)
    return doc, chunk_document(doc, ChunkSettings())


def _build(tmp: Path, plans: dict[str, str], encoder, name: str = "index", dense: DenseSettings | None = None):
    src = tmp / f"src-{name}"
    _write(src, plans)
    docs, chunks = ingest_paths([src], ChunkSettings(), progress=False)
    out = tmp / name
    build_index(docs, chunks, encoder, out, ChunkSettings(), progress=False, dense=dense)
    return out


def _assert_same_search(a: Path, b: Path, encoder) -> None:
    """Same chunks, vectors, BM25 scores and dense top hits (by chunk id) in both index directories."""
    x, y = load_index(a), load_index(b)
    assert {c.chunk_id for c in x.chunks} == {c.chunk_id for c in y.chunks}
    assert set(x.documents) == set(y.documents)
    assert set(x.lexical.vocab) == set(y.lexical.vocab)
    xi = {c.chunk_id: i for i, c in enumerate(x.chunks)}
    yi = {c.chunk_id: i for i, c in enumerate(y.chunks)}
    order = sorted(xi)
    assert np.allclose(x.vectors[[xi[c] for c in order]], y.vectors[[yi[c] for c in order]], atol=1e-5)
    for q in QUERIES:
        sx, sy = x.lexical.scores(q), y.lexical.scores(q)
        assert np.allclose(sx[[xi[c] for c in order]], sy[[yi[c] for c in order]], rtol=1e-5, atol=1e-6)
        qv = encoder.encode_queries([q])[0]
        (dx, rx), (dy, ry) = x.dense.search(qv, 3), y.dense.search(qv, 3)
        assert [x.chunks[r].chunk_id for r in rx] == [y.chunks[r].chunk_id for r in ry]
        assert np.allclose(dx, dy, atol=1e-5)


@pytest.fixture()
def base(tmp_path, encoder):
    return _build(tmp_path, {"a.txt": PLAN_A, "b.txt": PLAN_B}, encoder)


def test_add_plan_embeds_only_its_chunks_and_equals_rebuild(base, tmp_path, encoder):
    counting = CountingEncoder(encoder)
    doc, chunks = _doc(_write(tmp_path / "new", {"c.txt": PLAN_C})[0])
    res = update_index(base, [(doc, chunks)], [], counting)
    assert res.added == ["c"] and res.changed == [] and res.removed == []
    assert sorted(counting.texts) == sorted(index_text(doc.meta, c) for c in chunks)
    assert res.embedded == len(chunks) and res.chunks_added == len(chunks) and res.chunks_removed == 0
    full = _build(tmp_path, {"a.txt": PLAN_A, "b.txt": PLAN_B, "c.txt": PLAN_C}, encoder, "full")
    _assert_same_search(base, full, encoder)
    m = json.loads((base / "manifest.json").read_text("utf-8"))
    assert [d["doc_id"] for d in m["documents"]] == ["a", "b", "c"]
    assert {d["doc_id"]: d["chunks"] for d in m["documents"]}["c"] == len(chunks)
    assert m["chunk_count"] == len(load_index(base).chunks)
    assert m["build"]["updates"][-1]["added"] == ["c"]
    assert COUNTS_FILE in m["checksums"]
    assert not list(tmp_path.glob(".index.*"))  # written atomically, nothing left behind


def test_change_plan_reembeds_only_changed_texts(base, tmp_path, encoder):
    before = load_index(base)
    old_texts = set(before.chunk_texts())
    edited = PLAN_A.replace("báo cáo kết quả hằng năm.", "báo cáo kết quả hằng quý cho Ban Thường vụ.")
    doc, chunks = _doc(_write(tmp_path / "edit", {"a.txt": edited})[0])
    counting = CountingEncoder(encoder)
    res = update_index(base, [(doc, chunks)], [], counting)
    new_texts = {index_text(doc.meta, c) for c in chunks}
    assert res.changed == ["a"]
    assert set(counting.texts) == new_texts - old_texts
    assert 0 < len(counting.texts) < len(chunks)  # the untouched chunks of the edited plan kept their vectors
    assert res.reused == len(chunks) - len(counting.texts)
    full = _build(tmp_path, {"a.txt": edited, "b.txt": PLAN_B}, encoder, "full")
    _assert_same_search(base, full, encoder)


def test_remove_plan_equals_rebuild_and_prunes_terms(base, tmp_path, encoder):
    counting = CountingEncoder(encoder)
    res = update_index(base, [], ["b"], counting)
    assert res.removed == ["b"] and counting.texts == []
    full = _build(tmp_path, {"a.txt": PLAN_A}, encoder, "full")
    _assert_same_search(base, full, encoder)
    m = json.loads((base / "manifest.json").read_text("utf-8"))
    assert [d["doc_id"] for d in m["documents"]] == ["a"]
    assert "pong" not in load_index(base).lexical.vocab  # a term only the removed plan used is gone


def test_unchanged_plan_is_a_no_op(base, tmp_path, encoder):
    stamp = (base / "manifest.json").stat().st_mtime_ns
    counting = CountingEncoder(encoder)
    doc, chunks = _doc(_write(tmp_path / "same", {"a.txt": PLAN_A})[0])
    res = update_index(base, [(doc, chunks)], [], counting)
    assert res.unchanged == ["a"] and counting.texts == []
    assert (base / "manifest.json").stat().st_mtime_ns == stamp


def test_update_rejects_unknown_and_contradictory(base, tmp_path, encoder):
    with pytest.raises(ValueError, match="not in the index"):
        update_index(base, [], ["nope"], encoder)
    doc, chunks = _doc(_write(tmp_path / "x", {"b.txt": PLAN_B})[0])
    with pytest.raises(ValueError, match="both added and removed"):
        update_index(base, [(doc, chunks)], ["b"], encoder)


def test_update_index_without_counts_file(base, tmp_path, encoder):
    """An index written before counts were stored is updated by re-tokenising once."""
    (base / COUNTS_FILE).unlink()
    m = json.loads((base / "manifest.json").read_text("utf-8"))
    m["checksums"].pop(COUNTS_FILE)
    (base / "manifest.json").write_text(json.dumps(m), "utf-8")
    doc, chunks = _doc(_write(tmp_path / "new", {"c.txt": PLAN_C})[0])
    update_index(base, [(doc, chunks)], [], encoder)
    full = _build(tmp_path, {"a.txt": PLAN_A, "b.txt": PLAN_B, "c.txt": PLAN_C}, encoder, "full")
    _assert_same_search(base, full, encoder)
    assert (base / COUNTS_FILE).exists()


def test_cli_incremental_and_remove(base, tmp_path, encoder, monkeypatch, capsys):
    import app.runtime
    from app.cli import main

    monkeypatch.setattr(app.runtime, "load_encoder", lambda settings: encoder)
    new = _write(tmp_path / "cli", {"c.txt": PLAN_C})[0]
    assert main(["ingest", "--incremental", "--index-dir", str(base), str(new)]) == 0
    assert "c" in load_index(base).documents
    assert main(["ingest", "--incremental", "--index-dir", str(base), "--remove", "a"]) == 0
    assert set(load_index(base).documents) == {"b", "c"}
    out = capsys.readouterr().out
    assert "added 1" in out and "removed 1" in out


def test_bm25_weights_follow_the_textbook_formula():
    """The one BM25 implementation (index.lexical.bm25_weights) against a direct computation:
    idf = ln(1 + (N - df + 0.5) / (df + 0.5)); w = tf (k1 + 1) / (tf + k1 (1 - b + b len / avglen)) idf."""
    texts = [PLAN_A, PLAN_B, PLAN_C, "một hai ba ba"]
    lex, counts = build_lexical(texts)
    toks = [terms(t) for t in texts]
    avg = sum(map(len, toks)) / len(toks)
    dense = lex.weights.toarray()
    for term in ("ba", "mot_hai", "y_te", "chu_tri"):
        col = lex.vocab[term]
        df = sum(term in t for t in toks)
        idf = math.log(1 + (len(texts) - df + 0.5) / (df + 0.5))
        assert lex.idf[col] == pytest.approx(idf, rel=1e-6)
        for d, t in enumerate(toks):
            tf = t.count(term)
            want = tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(t) / avg)) * idf if tf else 0.0
            assert dense[d, col] == pytest.approx(want, rel=1e-5)
    assert len(counts.counts) == lex.weights.nnz and len(counts.lengths) == len(texts)
    assert LexicalIndex.build(texts).vocab == lex.vocab


# ---- embedding cache ----------------------------------------------------------------------------
def test_embedding_cache_round_trip(tmp_path):
    cache = EmbeddingCache("model-x", 4, tmp_path)
    keys = [text_key("model-x", t) for t in ("một", "hai", "ba")]
    keys.append(b"\x01" * 31 + b"\x00")  # a digest ending in a zero byte must survive the round trip
    vecs = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert cache.put(keys, vecs) == 4 and cache.put(keys[:1], vecs[:1]) == 0
    cache.flush()
    back = EmbeddingCache("model-x", 4, tmp_path)
    got, found = back.get(keys + [text_key("model-x", "bốn")])
    assert found.tolist() == [True, True, True, True, False]
    assert np.array_equal(got, vecs)
    assert not list((tmp_path / "model-x").glob("*.tmp-*"))
    with pytest.raises(ValueError, match="delete the folder"):
        EmbeddingCache("model-x", 8, tmp_path)


def test_cached_encoder_embeds_each_distinct_text_once(tmp_path, encoder):
    counting = CountingEncoder(encoder)
    cached = CachedEncoder(counting, EmbeddingCache(encoder.name, encoder.dim, tmp_path))
    texts = ["Trạm Y tế xã chủ trì", "Phòng Kinh tế phối hợp", "Trạm Y tế xã chủ trì"]
    first = cached.encode_documents(texts)
    assert counting.texts == texts[:2] and cached.stats.embedded == 2 and cached.stats.cache_hits == 1
    assert np.allclose(first[0], first[2])
    cached.flush()
    again = CachedEncoder(counting, EmbeddingCache(encoder.name, encoder.dim, tmp_path))
    second = again.encode_documents(texts)
    assert counting.texts == texts[:2]  # nothing new embedded: served from the files
    assert np.allclose(first, second)


def test_cached_encoder_answers_primed_queries_and_passes_the_rest_through(encoder):
    asked: list[str] = []

    class Queries(CountingEncoder):
        def encode_queries(self, texts):
            asked.extend(texts)
            return self.inner.encode_queries(texts)

    counting = Queries(encoder)
    cached = CachedEncoder(counting)  # no cache: documents pass straight through
    cached.prime(["ai chủ trì?", "bao nhiêu?", "ai chủ trì?"], batch_size=1)
    assert asked == ["ai chủ trì?", "bao nhiêu?"]
    vecs = cached.encode_queries(["bao nhiêu?", "ai chủ trì?"])
    assert asked == ["ai chủ trì?", "bao nhiêu?"] and vecs.shape == (2, encoder.dim)
    assert np.allclose(vecs[1], encoder.encode_queries(["ai chủ trì?"])[0], atol=1e-5)
    cached.encode_queries(["mới?"])
    cached.encode_queries(["mới?"])
    assert asked[2:] == ["mới?", "mới?"]  # a query not primed is not kept (timings measure the model)
    cached.encode_documents(["Trạm Y tế", "Trạm Y tế"])
    assert counting.texts == ["Trạm Y tế", "Trạm Y tế"] and cached.stats.embedded == 2


# ---- index type by size -------------------------------------------------------------------------
def _unit(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind, faiss_type", [("auto", "IndexIVFFlat"), ("ivf", "IndexIVFFlat"),
                                              ("hnsw", "IndexHNSWFlat")])
def test_index_type_switch_finds_nearest(kind, faiss_type, tmp_path):
    x = _unit(2000)
    idx = DenseIndex.build(x, DenseSettings(kind=kind, flat_threshold=500, hnsw_m=16))
    assert type(idx.index).__name__ == faiss_type
    for row in (0, 777, 1999):
        _, rows = idx.search(x[row], 5)
        assert rows[0] == row
    idx.save(tmp_path / "d.faiss")
    back = DenseIndex.load(tmp_path / "d.faiss")
    assert back.params == idx.params and back.search(x[5], 1)[1][0] == 5
    assert DenseIndex.build(x[:400], DenseSettings(flat_threshold=500)).kind == "flat"


@pytest.mark.parametrize("kind", ["ivf", "hnsw", "flat"])
def test_dense_update_keeps_rows_contiguous(kind):
    x = _unit(1500, seed=1)
    s = DenseSettings(kind=kind, hnsw_m=16)
    idx = DenseIndex.build(x, s)
    keep = np.ones(len(x), dtype=bool)
    keep[100:160] = False
    added = _unit(30, seed=2)
    after = np.concatenate([x[keep], added])
    idx = idx.updated(keep, added, after, s)
    assert idx.ntotal == len(after) and idx.kind == kind
    for row in (0, 99, 100, 500, len(after) - 1):
        assert idx.search(after[row], 1)[1][0] == row


def test_build_and_update_with_approximate_index(tmp_path, encoder):
    dense = DenseSettings(kind="auto", flat_threshold=2)
    out = _build(tmp_path, {"a.txt": PLAN_A, "b.txt": PLAN_B}, encoder, dense=dense)
    b = load_index(out)
    m = b.manifest["faiss"]
    assert m["type"] == "IndexIVFFlat" and m["params"]["kind"] == "ivf" and m["settings"]["flat_threshold"] == 2
    for row in range(len(b.chunks)):
        assert b.dense.search(b.vectors[row], 1)[1][0] == row
    doc, chunks = _doc(_write(tmp_path / "new", {"c.txt": PLAN_C})[0])
    update_index(out, [(doc, chunks)], ["a"], encoder)
    b = load_index(out)
    assert b.manifest["faiss"]["type"] == "IndexIVFFlat"
    for row in range(len(b.chunks)):
        assert b.dense.search(b.vectors[row], 1)[1][0] == row


def test_copy_of_index_is_loadable(base, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(base, d)
    assert load_index(d).manifest["lexical"]["counts"] == COUNTS_FILE


# ---- structured facts stored with the index -----------------------------------------------------
def _facts_json(bundle, fresh) -> tuple[list, list]:
    stored = ([a.to_json() for a in bundle.assignments], [t.to_json() for t in bundle.targets])
    expected = ([a.to_json() for d in bundle.documents for a in fresh[d][0]],
                [t.to_json() for d in bundle.documents for t in fresh[d][1]])
    return stored, expected


def test_facts_are_stored_updated_and_trusted_only_from_the_same_code(base, tmp_path, encoder):
    from index.store import extract_facts, facts_fingerprint

    b = load_index(base)
    assert b.facts is not None and b.manifest["facts"]["fingerprint"] == facts_fingerprint()
    stored, expected = _facts_json(b, extract_facts(b.documents.values()))
    assert stored == expected and b.manifest["facts"]["assignments"] == len(stored[0]) > 0
    doc, chunks = _doc(_write(tmp_path / "new", {"c.txt": PLAN_C})[0])
    update_index(base, [(doc, chunks)], ["a"], encoder)
    b = load_index(base)
    assert set(b.facts) == {"b", "c"}
    stored, expected = _facts_json(b, extract_facts(b.documents.values()))
    assert stored == expected
    m = json.loads((base / "manifest.json").read_text("utf-8"))
    m["facts"]["fingerprint"] = "extracted-by-older-code"
    (base / "manifest.json").write_text(json.dumps(m), "utf-8")
    stale = load_index(base)
    assert stale.facts is None and stale.assignments is None  # the retriever then extracts them itself


def test_ocr_plans_are_restored_at_build_and_the_manifest_names_the_model(base, tmp_path, encoder):
    from ingest.restore_model import load_model
    from retriever.display import Display

    b = load_index(base)
    info = b.manifest["restorer"]
    assert info["model_sha256"] == load_model().sha256 and info["model_version"] == load_model().version
    ocr = [d for d in b.documents.values() if d.meta.ocr]
    assert ocr and b.restorations is not None and set(b.restorations) == {d.doc_id for d in ocr}
    shown = Display(b.documents, b.restorations).document(ocr[0].doc_id)
    assert shown.printed == ocr[0].text and "Trạm Y tế xã chủ trì khám sức khỏe định kỳ" in shown.text
    # a model other than the one recorded: the stored restorations are not used (made again on display)
    manifest = json.loads((base / "manifest.json").read_text("utf-8"))
    manifest["restorer"]["model_sha256"] = "0" * 64
    (base / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert load_index(base, verify_checksums=False).restorations is None
