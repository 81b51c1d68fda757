"""OCR diacritic restorer: made-up garbled sentences, clean pass-through, offsets, names, model file."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from ingest import restore_model
from ingest.restore import LOW_CONFIDENCE, NAME_CONFIDENCE, Restorer, get_restorer, restore
from ingest.restore_channel import Channel, align, fit_confusion, ocr_skeleton
from ingest.restore_model import DEFAULT_MODEL_PATH, MODEL_VERSION, ModelError, load_model, looks_garbled
from ingest.syllables import inventory, is_syllable


@pytest.mark.parametrize(
    ("garbled", "expected"),
    [
        ("Sé Y té t6 chirc kiém tra céc co s& kinh doanh trén dia ban huyén",
         "Sở Y tế tổ chức kiểm tra các cơ sở kinh doanh trên địa bàn huyện"),
        ("Tang cudng cong tac tuyén truyén vé phong chéng dich bénh cho ngudi dan",
         "Tăng cường công tác tuyên truyền về phòng chống dịch bệnh cho người dân"),
        ("UBND xa bdo cao két qua thuc hién truéc ngay 15/12",
         "UBND xã báo cáo kết quả thực hiện trước ngày 15/12"),
    ],
)
def test_made_up_garbled_sentences_are_restored(garbled: str, expected: str) -> None:
    result = restore(garbled)
    assert result.garbled
    assert result.text == expected


def test_clean_text_passes_through_unchanged() -> None:
    clean = ("Ủy ban nhân dân huyện chủ trì, phối hợp với các sở, ngành liên quan tổ chức thực hiện.\n"
             "Ban Thường vụ giao Văn phòng theo dõi, đôn đốc và báo cáo kết quả định kỳ hằng quý.")
    result = restore(clean)
    assert result.text == clean
    assert result.spans == []
    assert not result.garbled


def test_spans_point_into_the_original_text() -> None:
    original = "Cac x4 phdi hop chat ché v6i Trung tam y té dé tiém ching cho tré em."
    result = restore(original)
    assert result.spans, "expected restored tokens"
    for span in result.spans:
        assert original[span.start:span.end] == span.original
        assert 0.0 <= span.confidence <= 1.0
        assert span.low_confidence == (span.confidence < LOW_CONFIDENCE)
    rebuilt, last = [], 0
    for span in result.spans:
        rebuilt += [original[last:span.start], span.restored]
        last = span.end
    assert "".join(rebuilt) + original[last:] == result.text
    first = result.spans[0]
    new_start = result.text.index(first.restored)
    assert result.to_original(new_start) == first.start
    assert result.to_original(len(result.text)) == len(original)


def test_names_are_kept_as_printed_unless_confident() -> None:
    result = restore("Phó Chủ tịch ký: Nguyen Vin Ly")
    name_tokens = {"Nguyen", "Vin", "Ly"}
    restored_parts = {sp.original for sp in result.spans} & name_tokens
    kept_parts = {sp.original for sp in result.kept_names} & name_tokens
    # all or nothing: a name is never half restored
    assert not (restored_parts and kept_parts)
    if kept_parts:
        assert result.text.endswith("Nguyen Vin Ly")
        assert min(sp.confidence for sp in result.kept_names) < NAME_CONFIDENCE


def test_garble_detection_separates_ocr_from_clean() -> None:
    assert looks_garbled("thwe hién céc nhiém vu cia Pang uy xa trong nim 2026 va cac nim tiép theo")
    assert not looks_garbled("thực hiện các nhiệm vụ của Đảng ủy xã trong năm 2026 và các năm tiếp theo")


def test_syllable_grammar() -> None:
    for ok in ("người", "quyết", "khỏe", "khoẻ", "nghiêng", "gì", "oanh", "yêu"):
        assert is_syllable(ok), ok
    for bad in ("hién", "quyét", "ciia", "nq", "strc", "cák"):
        assert not is_syllable(bad), bad
    assert all(is_syllable(w) for w in list(inventory())[:2000])
    assert ocr_skeleton("s6") == "so" and ocr_skeleton("v€") == "ve"


def test_confusion_fit_learns_from_pairs() -> None:
    pairs = [("twong", "tương"), ("nwoc", "nước"), ("dwng", "dựng")] * 3 + [("tu", "tư")]
    fitted = fit_confusion(pairs)
    assert fitted.counts["ư"]["w"] == 6 and fitted.counts["ự"]["w"] == 3
    assert fitted.cost("twong", "tương") < Channel().cost("twong", "tương")
    assert align("ddy", "đây") == [("d", "đ"), ("d", "â"), ("y", "y")]


def test_model_file_loads_with_version_and_checksum() -> None:
    lm = load_model()
    assert lm.version == MODEL_VERSION
    assert len(lm.sha256) == 64
    assert load_model(DEFAULT_MODEL_PATH, expect_sha256=lm.sha256).sha256 == lm.sha256
    info = get_restorer().info
    assert info["model_sha256"] == lm.sha256 and info["model_version"] == MODEL_VERSION
    with pytest.raises(ModelError, match="index expects"):
        load_model(DEFAULT_MODEL_PATH, expect_sha256="0" * 64)


def test_bad_model_files_give_clear_errors(tmp_path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "missing.json.gz")
    junk = tmp_path / "junk.json.gz"
    junk.write_bytes(b"not gzip at all")
    with pytest.raises(ModelError, match="not a readable gzip JSON"):
        load_model(junk)
    tampered = tmp_path / "tampered.json.gz"
    with gzip.open(DEFAULT_MODEL_PATH, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    doc["payload"]["unigrams"]["xyzzy"] = 5
    with gzip.open(tampered, "wt", encoding="utf-8") as fh:
        json.dump(doc, fh)
    with pytest.raises(ModelError, match="checksum"):
        load_model(tampered)
    assert restore_model.main(["info", str(junk)]) == 2


def test_build_command_writes_a_loadable_model(tmp_path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "a.txt").write_text("Ủy ban nhân dân tỉnh chủ trì thực hiện kế hoạch.\n" * 3, encoding="utf-8")
    shutil.copy(plans / "a.txt", plans / "b.txt")
    out = tmp_path / "lm.json.gz"
    code = restore_model.main(["build", "--out", str(out), "--corpus", str(plans), "--plans-dev", str(tmp_path / "x"),
                               "--alqac", str(tmp_path / "x"), "--xquad", str(tmp_path / "x"), "--no-gazetteer"])
    assert code == 0
    lm = load_model(out)
    assert lm.unigrams["ủy"] > 0 and lm.sources[0]["kind"] == "plan"
    assert Restorer(lm, Channel()).restore("Uy ban nhan dan tinh chu tri thuc hién ké hoach.").text.startswith("Ủy ban")
