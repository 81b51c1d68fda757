"""The benchmark harness on a tiny corpus: the structure of its results and report, never its timings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bench.cli import add_arguments
from bench.harness import BenchConfig, load_questions, run_bench
from bench.report import goals, render
from bench.synthetic import generate_plans, load_templates
from ingest.textnorm import fold

REPO = Path(__file__).resolve().parents[1]
PLAN_A = """KẾ HOẠCH
Đảng ủy xã Định Hóa ban hành như sau:
I. MỤC TIÊU
1. Tuổi thọ trung bình đạt 75,5 tuổi; tỷ lệ tiêm chủng mở rộng đạt trên 95% trẻ em trong độ tuổi.
IV. TỔ CHỨC THỰC HIỆN
1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền Nghị quyết, báo cáo kết quả hằng năm.
2. Trạm Y tế xã chủ trì tổ chức Ngày Sức khỏe toàn dân vào tháng 4 hằng năm.
"""
PLAN_B = """KE HOACH
Pang uy xa Ha Pong ban hanh nhu sau:
I. MUC TIEU
1. Ty le tiem chung dat 95%, ty le dan so duoc quan ly suc khoe dat 90%.
IV. TO CHUC THUC HIEN
1. Tram Y te xa chu tri kham suc khoe dinh ky cho nguoi cao tuoi.
"""


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bench-corpus")
    (d / "a.txt").write_text(PLAN_A, "utf-8")
    (d / "b.txt").write_text(PLAN_B, "utf-8")
    return d


@pytest.fixture(scope="module")
def smoke(tiny_corpus, settings, encoder, tmp_path_factory) -> dict:
    cfg = BenchConfig.smoke_config(corpus_dir=tiny_corpus, max_plans=None, max_chunks=None, n_questions=6,
                                   embed_sample=4, http_levels=(1, 2), http_requests=4, http_seconds=5.0,
                                   work_dir=tmp_path_factory.mktemp("bench-work"),
                                   extra_questions=["Trạm Y tế xã chủ trì việc gì?"])
    return run_bench(cfg, settings, encoder=encoder)


def test_smoke_result_structure(smoke):
    assert smoke["kind"] == "bench" and smoke["smoke"] is True
    assert smoke["machine"]["nproc"] >= 1 and "cpu" in smoke["machine"]
    assert smoke["corpus"]["plans"] == 2 and smoke["corpus"]["chunks"] > 0
    for system in ("ours", "bm25_only", "dense_default"):
        ing = smoke["ingest"][system]
        assert ing["chunks"] > 0 and ing["total_s"] > 0 and ing["chunks_per_s"] > 0
        lat = smoke["latency"][system]
        assert lat["n"] > 0 and 0 < lat["p50_ms"] <= lat["p95_ms"] <= lat["max_ms"]
    assert set(smoke["ingest"]["ratios"]) >= {"ours_vs_dense_seconds", "ours_vs_bm25_seconds"}
    assert smoke["latency"]["ratios"]["ours_vs_dense_p50"] > 0
    assert smoke["embedding"]["texts"] == 4 and smoke["embedding"]["texts_per_s"] > 0
    sizes = smoke["index_size"]
    assert sizes["ours"]["bytes"] > 0 and "manifest.json" in sizes["ours"]["files"]
    assert sizes["dense_default"]["bytes"] > 0 and sizes["bm25_only"]["bytes"] > 0
    levels = smoke["http"]["levels"]
    assert [lv["concurrency"] for lv in levels] == [1, 2]
    assert all(lv["ok"] > 0 and lv["errors"] == 0 and lv["questions_per_s"] > 0 for lv in levels)
    assert smoke["memory"]["bench_process_peak_rss_mb"] > 0
    json.dumps(smoke)  # the whole result is plain JSON


def test_report_renders_goals_and_tables(smoke):
    md = render(smoke, None)
    for heading in ("# Benchmarks", "## Machine", "## Goals", "## Real corpus", "### Ingest + index",
                    "### Question latency, library, warm", "### HTTP", "## Reproduce"):
        assert heading in md
    assert "kehoach-bench --smoke" in md
    gs = goals(smoke, None)
    assert len(gs) == 7 and gs[0]["measured"] == smoke["latency"]["ours"]["p50_ms"]
    fifty = next(g for g in gs if g["goal"].startswith("errors among 50 concurrent"))
    assert fifty["measured"] is None and fifty["met"] is None  # the smoke run has no level 50
    errs = {"http": {"levels": [{"concurrency": 50, "errors": 2, "questions_per_s": 9.0}]}}
    bad = next(g for g in goals(errs, None) if g["goal"].startswith("errors among 50"))
    assert bad["met"] is False and bad["off_by"] is None  # a zero target: missed, no ratio
    assert all(g["met"] is None for g in gs[2:3])  # no scale run given: no figure, no verdict
    kept = render(smoke, None, previous="x\n<!-- analysis -->\nhand-written\n<!-- /analysis -->\n")
    assert "hand-written" in kept


def test_goals_read_a_scale_result():
    scale = {"build": {"faiss": {"params": {"kind": "ivf", "nprobe": 48}}},
             "dense": {"ivf": {"sweep": [{"nprobe": 16, "recall_at_10": 0.8}, {"nprobe": 48, "recall_at_10": 0.97}]}},
             "probe": {"ask": {"p50_ms": 200.0}}, "incremental": {"add": {"seconds": {"total": 12.5}}}}
    by_goal = {g["goal"]: g for g in goals(None, scale)}
    assert by_goal["recall@10 of the approximate index vs flat (200k)"]["met"] is True
    assert by_goal["warm question latency p50 at 200k chunks"]["met"] is False
    assert by_goal["warm question latency p50 at 200k chunks"]["off_by"] == pytest.approx(1.33)
    assert by_goal["add one plan to the 200k index (all writes included)"]["measured"] == 12.5


def test_cli_arguments_make_a_smoke_config():
    from bench.cli import _bench_config

    ap = argparse.ArgumentParser()
    add_arguments(ap)
    cfg = _bench_config(ap.parse_args(["--smoke", "--http-levels", "1,4", "--questions-n", "5"]))
    assert cfg.smoke and cfg.http_levels == (1, 4) and cfg.n_questions == 5 and cfg.http_mode == "thread"
    full = _bench_config(ap.parse_args([]))
    assert full.http_levels == (1, 8, 32, 50) and full.http_mode == "process"


def test_gold_questions_load():
    qs = load_questions(REPO / "evals" / "gold" / "gold.jsonl")
    assert len(qs) > 100 and all(isinstance(q, str) and q for q in qs)


# ---- synthetic plans -----------------------------------------------------------------------------
def test_synthetic_plans_parse_and_vary():
    from ingest.chunking import chunk_document
    from ingest.pipeline import load_document

    templates = load_templates(REPO / "corpus")
    real = {t.doc.doc_id: t.doc for t in templates}
    plans = list(generate_plans(12, seed=3))
    again = list(generate_plans(12, seed=3))
    assert [p.text for p in plans] == [p.text for p in again]  # deterministic
    assert len({p.locality for p in plans}) > 6
    for p in plans:
        assert p.provenance[0].start == 0 and p.provenance[-1].end == len(p.text)
        src, off = p.source_of(len(p.text) // 2)
        assert src in real and 0 <= off <= len(real[src].text)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / plans[0].source_file
        path.write_text(plans[0].text, "utf-8")
        doc = load_document(path)
    assert doc.meta.locality and fold(doc.meta.locality) == fold(plans[0].locality)  # OCR plans print it folded
    assert len(chunk_document(doc)) > 5
    assert all(p.text not in {t.doc.text for t in templates} for p in plans)


@pytest.mark.e2e
def test_scale_run_tiny(tmp_path, settings, encoder):
    """The scale pipeline end to end at a few hundred chunks (the real run is 200k, outside the suite)."""
    from bench.scale import ScaleConfig, run_scale

    cfg = ScaleConfig(target_chunks=300, work_dir=tmp_path / "scale", cache_dir=tmp_path / "cache", real_embed=8,
                      nprobes=(2, 4), ef_searches=(16,), ask_questions=3, ask_budget_s=30, profile_questions=2)
    res = run_scale(cfg, settings, encoder=encoder)
    assert res["generate"]["chunks"] >= 300 and res["distinct"]["distinct_index_texts"] <= res["generate"]["chunks"]
    assert res["vectors"]["real_sample"] == 8 and 0 < res["vectors"]["median_cos_true_vs_source"] <= 1
    assert res["dense"]["flat"]["recall_at_10"] == 1.0
    assert [p["nprobe"] for p in res["dense"]["ivf"]["sweep"]] == [2, 4]
    assert 0 <= res["dense"]["hnsw"]["sweep"][0]["recall_at_10"] <= 1
    assert res["lexical"]["scale"]["n"] > 0
    assert "error" not in res["probe"] and res["probe"]["ask"]["n"] > 0 and res["probe"]["profile"]["top"]
    inc = res["incremental"]
    assert inc["add"]["added"] and inc["add"]["embedded"] == inc["add"]["chunks_added"]
    assert inc["change"]["changed"] and inc["change"]["embedded"] < inc["change"]["chunks_added"]
    assert inc["remove"]["removed"] and inc["remove"]["embedded"] == 0
    assert "## Scale: 200,000 chunks" in render(None, res)


def test_bench_cli_rejects_probe_only_without_scale_and_without_a_saved_run(tmp_path, capsys):
    from bench.cli import main

    assert main(["--probe-only"]) == 2
    assert "--probe-only goes with --scale" in capsys.readouterr().err
    assert main(["--scale", "--probe-only", "--results-dir", str(tmp_path)]) == 2
    assert "run `kehoach-bench --scale` first" in capsys.readouterr().err


def test_kehoach_bench_points_to_the_bench_command(capsys):
    from app.cli import main

    assert main(["bench", "--smoke"]) == 2
    err = capsys.readouterr().err
    assert "kehoach-bench --smoke" in err and "python -m bench --smoke" in err


@pytest.mark.parametrize("argv,message", [
    (["--url", "http://127.0.0.1:9", "--concurrency", "a,b"], "--concurrency must be integers"),
    (["--url", "http://127.0.0.1:9", "--concurrency", "0"], "at least 1"),
    (["--index-dir", "no/such/index"], "no index in no/such/index"),
    (["--url", "http://127.0.0.1:9", "--questions", "no/such.jsonl"], "questions file not found"),
])
def test_http_load_cli_bad_input(argv, message, capsys):
    from bench.http_load import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_http_load_cli_unreachable_server(capsys):
    from bench.http_load import free_port, main

    with pytest.raises(SystemExit) as exc:
        main(["--url", f"http://127.0.0.1:{free_port()}", "--requests", "1"])
    assert exc.value.code == 2 and "cannot reach" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["{not json\n", "[1, 2]\n", "\n"])
def test_http_load_cli_bad_questions_file(content, tmp_path, capsys):
    from bench.http_load import main

    path = tmp_path / "q.jsonl"
    path.write_text(content, "utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["--url", "http://127.0.0.1:9", "--questions", str(path)])
    assert exc.value.code == 2 and f"{path}:" in capsys.readouterr().err
