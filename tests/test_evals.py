"""Evaluation harness: metric functions on hand-made cases, the regression gate, the XQuAD loader and runner on a
tiny synthetic SQuAD file, the baselines on a tiny inline corpus, and `kehoach eval` end to end on a few questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from evals.baselines import BM25Baseline, DenseBaseline, fixed_chunks, plain_syllables
from evals.gate import (
    baseline_from_run,
    compare,
    flat_metrics,
    format_gate,
    load_baseline,
    write_baseline,
)
from evals.gold import GoldItem, load_gold
from evals.report import bar_chart_svg, write_report
from evals.runner import (
    Unit,
    abstention_pr,
    answer_units,
    citation_accuracy,
    evidence_cited,
    grounding,
    score_item,
    split_quotes,
    summarise,
    unit_supported,
)
from evals.xquad import load_xquad, rank_of, retrieval_metrics, run_xquad, span_in, strip_diacritics
from index.embed_cache import CachedEncoder

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLD_PATH = REPO_ROOT / "evals" / "gold" / "gold.jsonl"


def cit(rank: int, file: str = "a.txt", start: int = 0, end: int = 100, text: str = "", **kw) -> dict:
    return {"rank": rank, "chunk_id": f"{file}#{rank}", "source_file": file, "start": start, "end": end,
            "text": text, "score": 1.0 / rank, "doc_number": None, "section": "", **kw}


# ---- grounding ----------------------------------------------------------------------------------------------------
def test_answer_units_split_quotes_and_sentences():
    ans = "Cơ quan chủ trì: Phòng Y tế. Theo Kế hoạch số 07-KH/TU, mục IV: “Phòng Y tế chủ trì, phối hợp.”"
    units = answer_units(ans)
    assert Unit("Phòng Y tế chủ trì, phối hợp.", True) in units
    assert [u.text for u in units if not u.quoted] == ["Phòng Y tế.", "Theo Kế hoạch số 07-KH/TU, mục IV:"]
    noted = answer_units("Thời hạn: Hằng năm. (Đọc từ bản OCR, độ tin cậy: trung bình.) Nguồn:\nKế hoạch số 07")
    assert [u.text for u in noted] == ["Hằng năm.", "Kế hoạch số 07"]  # labels and the aside dropped


def test_split_quotes_nested_and_unbalanced():
    quotes, outside = split_quotes("A: “x “y” z” B")
    assert quotes == ["x “y” z"] and "A:" in outside and "B" in outside
    quotes, _ = split_quotes("A: “x “y z”")  # OCR text with a stray opening quote
    assert quotes == ["x “y z"]


def test_quote_supported_after_folding_and_whitespace():
    passage = "- Phong Van hoa - Xa hoi chu tri,\n  tham muu cho UBND xa."
    assert unit_supported(Unit("Phòng Văn hóa - Xã hội chủ trì, tham mưu cho UBND xã.", True), [passage])
    # phong kinh te tham muu ubnd xa: 5 of 7 content tokens in the passage (0.71 < 0.8)
    assert unit_supported(Unit("Phòng Kinh tế chủ trì, tham mưu cho UBND xã.", True), [passage]) is False


def test_sentence_supported_by_token_share():
    passage = "tỷ lệ bao phủ bảo hiểm y tế đạt 95% dân số"
    # content tokens: bao phu hiem y te 97 -> "97" missing: 5 of 6 = 0.83 >= 0.8
    assert unit_supported(Unit("Bao phủ bảo hiểm y tế 97", False), [passage]) is True
    # bao hiem xe may bat buoc: 2 of 6 content tokens present -> not supported
    assert unit_supported(Unit("Bảo hiểm xe máy bắt buộc", False), [passage]) is False
    # only template / function words -> not counted
    assert unit_supported(Unit("Theo mục:", False), [passage]) is None


def test_grounding_counts_units_against_cited_passages():
    cits = [cit(1, text="Phòng Y tế chủ trì tổ chức Ngày Sức khỏe toàn dân.", doc_type="Kế hoạch",
                doc_number="07-KH/TU", issuer="Ban Thường vụ Tỉnh ủy Điện Biên", section="IV. TỔ CHỨC THỰC HIỆN")]
    good = "Theo Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên, mục IV. TỔ CHỨC THỰC HIỆN: " \
           "“Phòng Y tế chủ trì tổ chức Ngày Sức khỏe toàn dân.”"
    # the attribution splits at "IV." into "Theo … mục IV." (supported by the citation's metadata line) and the
    # bare "TỔ CHỨC THỰC HIỆN:" (a label: dropped); the quote is a substring of the passage
    assert grounding(good, cits) == (2, 2)
    bad = good + " Ngân sách tỉnh cấp 5 tỷ đồng mỗi năm."
    assert grounding(bad, cits) == (2, 3)


# ---- citations, evidence, abstention ------------------------------------------------------------------------------
def test_citation_accuracy_single_and_cross_doc():
    cits = [cit(1, "a.txt"), cit(2, "b.txt"), cit(3, "a.txt"), cit(4, "c.txt")]
    assert citation_accuracy(cits, ["a.txt"]) == {"citation@1": 1.0, "citation_recall": 1.0,
                                                  "citation_precision": 0.5}
    cross = citation_accuracy(cits, ["b.txt", "d.txt"])
    assert cross["citation@1"] == 0.0 and cross["citation_recall"] == 0.5 and cross["citation_precision"] == 0.25
    assert citation_accuracy([], ["a.txt"])["citation@1"] == 0.0
    assert citation_accuracy(cits, ["c.txt"], k=3)["citation_recall"] == 0.0  # c.txt is 4th, outside top-3


def test_evidence_cited_uses_union_of_passages_per_file():
    spans = [("a.txt", 90, 130)]
    assert not evidence_cited([cit(1, "a.txt", 0, 100)], spans)
    assert evidence_cited([cit(1, "a.txt", 0, 100), cit(2, "a.txt", 95, 200)], spans)
    assert not evidence_cited([cit(1, "b.txt", 0, 500)], spans)
    cross = [("a.txt", 10, 20), ("b.txt", 10, 20)]
    assert not evidence_cited([cit(1, "a.txt", 0, 50)], cross)
    assert evidence_cited([cit(1, "a.txt", 0, 50), cit(2, "b.txt", 0, 50)], cross)
    alternatives = [("a.txt", 10, 20), ("a.txt", 500, 520)]
    assert evidence_cited([cit(1, "a.txt", 490, 600)], alternatives)


def test_abstention_precision_recall():
    recs = [{"answerable": False, "abstained": True}, {"answerable": False, "abstained": False},
            {"answerable": True, "abstained": True}, {"answerable": True, "abstained": False},
            {"answerable": False, "abstained": True}]
    assert abstention_pr(recs) == (2 / 3, 2 / 3)
    assert abstention_pr([{"answerable": True, "abstained": False}]) == (None, None)
    assert abstention_pr([{"answerable": False, "abstained": False}]) == (None, 0.0)


def _item(qid: str, category: str = "target", files: tuple[str, ...] = ("a.txt",),
          must: tuple[str, ...] = ("95%",)) -> GoldItem:
    una = category == "unanswerable"
    return GoldItem(id=qid, question=f"câu hỏi {qid}?", category=category, doc_files=() if una else files,
                    doc_numbers=(), answer="x", must_include=() if una else must,
                    evidence=() if una else ("bao phủ bảo hiểm y tế đạt 95%",), accented=True)


def _answer(text: str, cits: list[dict], abstained: bool = False) -> dict:
    return {"answer": text, "abstained": abstained, "citations": cits}


def test_score_item_answerable_and_unanswerable():
    passage = "Đến năm 2026, tỷ lệ bao phủ bảo hiểm y tế đạt 95% dân số."
    rec = score_item(_item("q1"), _answer(f"“{passage}”", [cit(1, "a.txt", 0, 60, passage)]), [("a.txt", 10, 40)])
    assert rec["hit1"] and rec["answer_ok"] and rec["evidence_cited"] and rec["citation@1"] == 1.0
    assert (rec["grounded_units"], rec["checked_units"]) == (1, 1)
    miss = score_item(_item("q2"), _answer("x", [], abstained=True), [("a.txt", 10, 40)])
    assert not miss["answer_ok"] and not miss["abstain_ok"] and miss["citation@1"] == 0.0 and miss["mrr10"] == 0.0
    una = score_item(_item("q3", "unanswerable"), _answer("Không tìm thấy", [], abstained=True), [])
    assert una["abstain_ok"] and not una["answerable"]


# ---- gate ---------------------------------------------------------------------------------------------------------
def _records(answer_ok: dict[str, bool]) -> list[dict]:
    passage = "tỷ lệ bao phủ bảo hiểm y tế đạt 95% dân số"
    recs = []
    for qid, ok in answer_ok.items():
        text = f"“{passage}”" if ok else "“tỷ lệ bao phủ bảo hiểm y tế”"
        recs.append(score_item(_item(qid), _answer(text, [cit(1, "a.txt", 0, 60, passage)]), [("a.txt", 0, 30)]))
    recs.append(score_item(_item("u1", "unanswerable"), _answer("Không", [], abstained=True), []))
    return recs


def _run(answer_ok: dict[str, bool]) -> dict:
    return {"meta": {}, "gold": {"systems": {"project": summarise(_records(answer_ok), [])}}}


def test_gate_flags_regressed_metric_and_question(tmp_path):
    before = _run({f"q{i}": True for i in range(10)})
    after = _run({f"q{i}": i != 3 for i in range(10)})
    path = tmp_path / "baseline.json"
    write_baseline(before, path, tolerance=0.02)
    base = load_baseline(path)
    assert base["metrics"]["gold/overall/answer_accuracy"] == 1.0
    assert base["questions"]["gold"]["q3"]["answer"] == 1
    res = compare(after, base, 0.02)
    assert not res.ok
    assert [r.metric for r in res.regressions] == ["gold/overall/answer_accuracy",
                                                   "gold/category/target/answer_accuracy",
                                                   "gold/accent/accented/answer_accuracy"]
    assert [(f.qid, f.outcomes) for f in res.flips] == [("q3", ("answer",))]
    text = format_gate(res)
    assert "FAIL" in text and "gold:q3 (answer)" in text and "gold/overall/answer_accuracy: 1.0 -> 0.9" in text
    assert compare(after, base, tolerance=0.15).ok  # within tolerance: passes, flip still listed
    assert compare(after, base, tolerance=0.15).flips
    assert compare(before, base).ok and not compare(before, base).flips


def test_gate_skips_suites_not_run_and_rejects_bad_file(tmp_path):
    run = _run({"q1": True})
    base = baseline_from_run(run)
    base["metrics"]["xquad/project/as_written/recall@1"] = 0.99
    res = compare(run, base)
    assert res.ok and res.skipped == ["xquad"]
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="format"):
        load_baseline(bad)
    with pytest.raises(FileNotFoundError, match="write-baseline"):
        load_baseline(tmp_path / "missing.json")
    assert "gold/overall/hit@5" in flat_metrics(run)


def test_report_markdown_and_html(tmp_path):
    run = _run({"q1": True, "q2": False})
    run["gold"].update(path="gold.jsonl", n=3, cite_k=5, deep_k=10, labels={"project": "project"})
    files = write_report(run, tmp_path / "r.md")
    text = files[0].read_text(encoding="utf-8")
    assert "| system | answer_accuracy |" in text and "![per-category scores](r.categories.svg)" in text
    assert files[1].read_text(encoding="utf-8").startswith("<svg")
    html = write_report(run, tmp_path / "r.html")[0].read_text(encoding="utf-8")
    assert "<svg" in html and "<table>" in html
    with pytest.raises(ValueError, match=".md or .html"):
        write_report(run, tmp_path / "r.txt")
    assert bar_chart_svg("t", ["a", "b"], {"s": [0.5, None]}).count("<rect") == 2  # one bar + one legend swatch


# ---- XQuAD --------------------------------------------------------------------------------------------------------
SQUAD = {"version": "1.1", "data": [
    {"title": "Sông_Hồng", "paragraphs": [
        {"context": "Sông Hồng chảy qua Hà Nội và đổ ra vịnh Bắc Bộ. Sông dài khoảng 1.149 km.",
         "qas": [{"id": "h1", "question": "Sông Hồng đổ ra đâu?", "answers": [{"text": "vịnh Bắc Bộ",
                                                                          "answer_start": 34}]},
                 {"id": "h2", "question": "Sông Hồng dài bao nhiêu?", "answers": [{"text": "1.149 km",
                                                                              "answer_start": 62}]}]}]},
    {"title": "Phở", "paragraphs": [
        {"context": "Phở là món ăn truyền thống của Việt Nam, nấu từ bánh phở và nước dùng bò hoặc gà.",
         "qas": [{"id": "p1", "question": "Phở được nấu từ gì?", "answers": [{"text": "bánh phở",
                                                                          "answer_start": 45}]}]},
        {"context": "Bóng đá là môn thể thao được yêu thích nhất; đội tuyển vô địch AFF Cup năm 2008.",
         "qas": [{"id": "b1", "question": "Đội tuyển vô địch AFF Cup năm nào?", "answers": [{"text": "2008",
                                                                                          "answer_start": 75}]}]}]},
]}


@pytest.fixture()
def squad_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    return path


def test_xquad_loader(squad_file, tmp_path):
    ds = load_xquad(squad_file)
    assert len(ds.paragraphs) == 3 and len(ds.questions) == 4
    assert ds.questions[2].paragraph == 1 and ds.paragraphs[1].doc_id == "xq001"
    assert ds.questions[0].answers == ("vịnh Bắc Bộ",)
    with pytest.raises(FileNotFoundError, match="shared/external/xquad-vi"):
        load_xquad(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"paragraphs": [{"context": "x"}]}]}', encoding="utf-8")
    with pytest.raises(ValueError, match="qas"):
        load_xquad(bad)


def test_xquad_helpers():
    assert strip_diacritics("Đội tuyển vô địch AFF Cup năm nào?") == "Doi tuyen vo dich AFF Cup nam nao?"
    assert rank_of(["x", "x", "y", "z"], "y") == 2 and rank_of(["x"], "y") is None
    assert retrieval_metrics([1, 2, None, 11]) == {"n": 4, "recall@1": 0.25, "recall@5": 0.5, "mrr@10": 0.375}
    assert span_in("đổ ra Vịnh Bắc Bộ.", ["vịnh bắc bộ"]) and not span_in("năm 20081", ["2008"])


def test_run_xquad_on_tiny_file(squad_file, tmp_path, encoder):
    res = run_xquad(encoder, squad_file, cache_dir=tmp_path / "idx", progress=False)
    assert res["questions"] == 4 and res["paragraphs"] == 3
    assert set(res["rows"]) == {"project", "project_other_fusion", "project_lexical", "dense_only", "bm25_plain"}
    assert res["rows"]["project"]["as_written"]["recall@1"] == 1.0
    assert res["rows"]["project"]["accent_free"]["n"] == 4
    assert res["ask"]["n"] == 4 and 0.0 <= res["ask"]["top_passage_contains"] <= 1.0
    assert (tmp_path / "idx" / "manifest.json").exists()
    again = run_xquad(encoder, squad_file, cache_dir=tmp_path / "idx", progress=False, ask=False)  # reuses index
    assert again["rows"]["project"]["as_written"] == res["rows"]["project"]["as_written"] and again["ask"] is None


# ---- baselines ----------------------------------------------------------------------------------------------------
PLANS = {
    "a.txt": "KẾ HOẠCH\n\nPhòng Văn hóa - Xã hội chủ trì tổ chức Ngày Sức khỏe toàn dân.\n\n" + "Nội dung khác. " * 90,
    "b.txt": "CHUONG TRINH\n\nTram y te xa dat chuan quoc gia truoc nam 2030.\n\n" + "Phan con lai. " * 90,
}


def test_plain_syllables_keep_diacritics():
    assert plain_syllables("Đảng ủy xã, NĂM 2025") == ["đảng", "ủy", "xã", "năm", "2025"]


def test_fixed_chunks_offsets_are_exact():
    chunks = fixed_chunks("a.txt", PLANS["a.txt"])
    assert len(chunks) > 1 and all(len(c.text) <= 1000 for c in chunks)
    assert all(PLANS["a.txt"][c.start:c.end] == c.text for c in chunks)
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))  # 200-character overlap


def test_bm25_baseline_is_accent_sensitive():
    passages = [p for name, text in PLANS.items() for p in fixed_chunks(name, text)]
    bm25 = BM25Baseline(passages)
    ans = bm25.ask("Ai chủ trì Ngày Sức khỏe toàn dân?", k=3, qid="x")
    assert ans["citations"][0]["source_file"] == "a.txt" and ans["answer"] == ans["citations"][0]["text"]
    assert not ans["abstained"] and ans["citations"][0]["start"] == 0
    assert bm25.search("trạm tế đạt chuẩn quốc", 3) == []  # accented query, accent-free plan: no shared syllable
    assert bm25.search("tram y te xa dat chuan", 3)[0][0] == [p.source_file for p in passages].index("b.txt")


def test_dense_baseline_and_cached_encoder(encoder):
    passages = [p for name, text in PLANS.items() for p in fixed_chunks(name, text)]
    cached = CachedEncoder(encoder)
    cached.prime(["Ai chủ trì Ngày Sức khỏe toàn dân?"])
    dense = DenseBaseline(passages, cached)
    ans = dense.ask("Ai chủ trì Ngày Sức khỏe toàn dân?", k=2)
    assert len(ans["citations"]) == 2 and ans["citations"][0]["source_file"] == "a.txt"
    c = ans["citations"][0]
    assert PLANS[c["source_file"]][c["start"]:c["end"]] == c["text"]


# ---- end to end ---------------------------------------------------------------------------------------------------
def _small_gold(tmp_path: Path) -> Path:
    items = load_gold(GOLD_PATH)
    keep = [next(i for i in items if i.category == c) for c in ("lead_agency", "target", "unanswerable")]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(i.to_dict(), ensure_ascii=False) + "\n" for i in keep), encoding="utf-8")
    return path


def test_cli_eval_report_baseline_and_gate(tmp_path, index_dir, settings, encoder, capsys, monkeypatch):
    monkeypatch.setattr("app.runtime.load_encoder", lambda s: encoder)
    gold = _small_gold(tmp_path)
    common = ["eval", "--gold", str(gold), "--index-dir", str(index_dir), "--corpus-dir", str(settings.corpus_dir),
              "--no-baselines", "--no-progress", "--threads", "0"]
    base = tmp_path / "baseline.json"
    assert main([*common, "--report", str(tmp_path / "r.html"), "--write-baseline", str(base)]) == 0
    assert (tmp_path / "r.html").exists() and (tmp_path / "predictions.jsonl").exists()
    rows = [json.loads(x) for x in (tmp_path / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["system"] for r in rows} == {"project"} and len(rows) == 3
    assert main([*common, "--baseline", str(base)]) == 0
    assert "gate: PASS" in capsys.readouterr().out
    stored = json.loads(base.read_text(encoding="utf-8"))
    stored["metrics"]["gold/overall/hit@5"] = 1.5  # unreachable: must regress
    una = next(q for q, o in stored["questions"]["gold"].items() if "hit@5" not in o)  # the unanswerable one
    stored["questions"]["gold"][una]["hit@5"] = 1  # "was right": it can only be wrong now
    base.write_text(json.dumps(stored), encoding="utf-8")
    assert main([*common, "--baseline", str(base)]) == 1
    out = capsys.readouterr().out
    assert "gate: FAIL" in out and "gold/overall/hit@5: 1.5 ->" in out and f"gold:{una} (hit@5)" in out


def test_cli_eval_missing_xquad_is_a_clear_error(tmp_path, capsys):
    assert main(["eval", "--suite", "xquad", "--xquad", str(tmp_path / "none.json"), "--no-progress"]) == 2
    assert "XQuAD-vi file not found" in capsys.readouterr().err
