"""The int8 encoders (index/encoder.py PRECISIONS): their own name, normalised float32 vectors close to fp32,
and an index of one precision refuses to be queried with another."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.runtime import model_path
from app.settings import Settings
from index.encoder import SentenceTransformerEncoder, split_precision
from index.store import IndexError_, build_index, load_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths
from retriever.service import Retriever

SENTENCES = [
    "Cơ quan nào chủ trì tổ chức Ngày Sức khỏe toàn dân?",
    "Phòng Văn hóa - Xã hội chủ trì tổ chức Ngày Sức khỏe toàn dân 7/4 hằng năm.",
    "Kế hoạch triển khai Nghị quyết số 72-NQ/TW về bảo vệ, chăm sóc và nâng cao sức khỏe nhân dân.",
    "Ngân sách xây dựng cầu đường giao thông nông thôn.",
    "Phấn đấu đến năm 2030, tỷ lệ người dân được khám sức khỏe định kỳ đạt trên 90%.",
]
# least cosine to the fp32 vector: measured 0.955 (int8) and 0.993 (int8-mixed) over 200 chunk texts and 60 gold
# questions (bench/encoder_precision.py), so these bounds leave a margin and still catch a broken quantization
MIN_COSINE = {"int8": 0.95, "int8-mixed": 0.99}
PLAN = ("KẾ HOẠCH\nỦy ban nhân dân xã Định Hóa ban hành như sau:\nI. MỤC TIÊU\n1. Tuổi thọ trung bình đạt 75,5 "
        "tuổi.\nIV. TỔ CHỨC THỰC HIỆN\n1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền Nghị quyết.\n")


@pytest.fixture(scope="module", params=["int8", "int8-mixed"])
def quantized(request: pytest.FixtureRequest, settings: Settings) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(model_path(settings), precision=request.param)


def test_quantized_encoder_has_its_own_name(quantized, encoder):
    assert quantized.name == f"{encoder.name}-{quantized.precision}"
    assert split_precision(quantized.name) == (encoder.name, quantized.precision)
    assert split_precision(encoder.name) == (encoder.name, "fp32")
    assert quantized.dim == encoder.dim == 384


def test_quantized_vectors_normalised_and_close_to_fp32(quantized, encoder):
    for fn in ("encode_documents", "encode_queries"):
        q, f = getattr(quantized, fn)(SENTENCES), getattr(encoder, fn)(SENTENCES)
        assert q.dtype == np.float32 and q.shape == f.shape == (len(SENTENCES), encoder.dim)
        assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
        cos = np.sum(q * f, axis=1)
        assert cos.min() > MIN_COSINE[quantized.precision], (fn, cos)
        assert not np.allclose(q, f, atol=1e-4)  # the model really was quantized


def test_quantized_ranks_the_matching_passage_first(quantized):
    q = quantized.encode_queries([SENTENCES[0]])[0]
    docs = quantized.encode_documents(SENTENCES[1:])
    assert int(np.argmax(docs @ q)) == 0


def test_unknown_precision_is_refused(settings):
    with pytest.raises(ValueError, match="not one of fp32, int8"):
        SentenceTransformerEncoder(model_path(settings), precision="int4")


def _tiny_index(encoder, out: Path, src: Path) -> Path:
    src.mkdir(parents=True)
    (src / "a.txt").write_text(PLAN, "utf-8")
    cs = ChunkSettings()
    docs, chunks = ingest_paths([src], cs, progress=False)
    build_index(docs, chunks, encoder, out, cs, progress=False)
    return out


def test_index_of_one_precision_refuses_the_other(quantized, encoder, tmp_path):
    for built_with, asked_with, name in ((encoder, quantized, "fp32"), (quantized, encoder, "q")):
        bundle = load_index(_tiny_index(built_with, tmp_path / name / "index", tmp_path / name / "src"))
        with pytest.raises(IndexError_, match=f"encoder mismatch.*KEHOACH_ENCODER_PRECISION="
                                              f"{split_precision(built_with.name)[1]}"):
            Retriever(bundle, asked_with)
        assert Retriever(bundle, built_with).bundle is bundle  # the same precision is accepted


def test_precision_setting_reaches_the_encoder(monkeypatch, settings):
    import app.runtime

    seen = {}
    monkeypatch.setattr(app.runtime, "SentenceTransformerEncoder",
                        lambda model, precision: seen.setdefault("precision", precision))
    monkeypatch.setenv("KEHOACH_ENCODER_PRECISION", "int8")
    app.runtime.load_encoder(Settings().model_copy(update={"model_cache": settings.model_cache}))
    assert seen == {"precision": "int8"}
    monkeypatch.setenv("KEHOACH_ENCODER_PRECISION", "int16")
    with pytest.raises(ValueError, match="encoder_precision"):
        Settings()


def test_cli_refuses_a_bad_precision_setting(monkeypatch, capsys):
    from app.cli import main

    monkeypatch.setenv("KEHOACH_ENCODER_PRECISION", "int4")
    assert main(["ask", "Ai chủ trì?"]) == 2
    err = capsys.readouterr().err
    assert "bad setting" in err and "encoder_precision" in err and "'int8'" in err
