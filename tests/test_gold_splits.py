"""The held-out split of the bundled gold set, the unseen-plans gold set, the suites' metrics and gate, and the rule
that tests never reuse a gold question."""

from __future__ import annotations

import ast
import json
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from app.cli import main
from evals.gate import baseline_from_run, compare, dump_baseline, format_gate, load_baseline, update_baseline
from evals.gold import GoldItem, load_gold, validate_gold
from evals.runner import number_cited, summarise
from evals.split import BUNDLED, BUNDLED_DEV, BUNDLED_TEST, UNSEEN_DEV, file_sha256, split_gold, stratum
from evals.suites import accent_free, check_plans_dev, plan_files, side_by_side

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLD_DIR = REPO_ROOT / "evals" / "gold"
# Frozen: changing evals/gold/bundled-test.jsonl changes this digest.  The test half is not tuned on and not edited;
# see evals/gold/README.md before touching either.
BUNDLED_TEST_SHA256 = "8e37a8a32b5ff51e277c2611dbec2c56e9c44290851bfa3021a867244be4683b"
LEAD_COORD_DEADLINE = ("lead_agency", "coordination", "deadline")


def _plans_dev() -> Path:
    env = os.environ.get("KEHOACH_PLANS_DEV")
    return Path(env) if env else (REPO_ROOT / ".." / "shared" / "external" / "plans-dev").resolve()


# ---- the bundled split --------------------------------------------------------------------------------------------
def test_bundled_test_half_is_frozen() -> None:
    assert file_sha256(BUNDLED_TEST) == BUNDLED_TEST_SHA256, (
        "evals/gold/bundled-test.jsonl changed: the test half is frozen (see evals/gold/README.md)")


def test_split_files_are_what_the_split_writes() -> None:
    items = load_gold(BUNDLED)
    dev, test = split_gold(items)
    assert [it.to_dict() for it in load_gold(BUNDLED_DEV)] == [it.to_dict() for it in dev]
    assert [it.to_dict() for it in load_gold(BUNDLED_TEST)] == [it.to_dict() for it in test]
    assert {it.id for it in dev} | {it.id for it in test} == {it.id for it in items}
    assert not {it.id for it in dev} & {it.id for it in test}


def test_split_is_balanced_per_stratum() -> None:
    dev, test = split_gold(load_gold(BUNDLED))
    assert abs(len(dev) - len(test)) <= 1
    d, t = Counter(map(stratum, dev)), Counter(map(stratum, test))
    for key in d | t:
        assert abs(d[key] - t[key]) <= 1, key
    for cat in {it.category for it in dev + test}:
        assert abs(sum(k[1] == cat for k in d.elements()) - sum(k[1] == cat for k in t.elements())) <= 2, cat


def _item(i: int, cat: str, doc: str) -> GoldItem:
    return GoldItem(f"x{i:03d}", f"câu hỏi {i}", cat, (doc,), (), "a", ("a",), ("bằng chứng đủ dài ở đây",), True)


def test_split_is_deterministic_and_order_free() -> None:
    items = [_item(i, ("target", "content")[i % 2], f"p{i % 3}.txt") for i in range(40)]
    a = split_gold(items)
    b = split_gold(list(reversed(items)))
    assert {it.id for it in a[1]} == {it.id for it in b[1]}
    assert abs(len(a[0]) - len(a[1])) <= 1


# ---- the unseen-plans gold set ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def unseen() -> list[GoldItem]:
    return load_gold(UNSEEN_DEV)


def test_unseen_set_shape(unseen: list[GoldItem]) -> None:
    cats = Counter(it.category for it in unseen)
    assert len(unseen) >= 80
    assert sum(cats[c] for c in LEAD_COORD_DEADLINE) / len(unseen) >= 0.4
    assert cats["unanswerable"] >= 8 and cats["target"] >= 8 and cats["doc_meta"] >= 8
    assert any(not it.accented for it in unseen) and any(it.accented for it in unseen)
    files = {f for it in unseen for f in it.doc_files}
    assert len(files) == 8 and all(re.fullmatch(r"d\d_[a-z_]+\.txt", f) for f in files)
    assert all(it.doc_numbers for it in unseen if it.answerable)


def test_unseen_evidence_is_in_the_plans(unseen: list[GoldItem]) -> None:
    plans = _plans_dev()
    if not plans.is_dir():
        pytest.skip(f"plans-dev not at {plans} (set KEHOACH_PLANS_DEV)")
    assert validate_gold(unseen, plans) == []
    assert {f.name for f in plan_files(plans)} == {f for it in unseen for f in it.doc_files}


def test_missing_plans_dev_is_a_clear_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(FileNotFoundError, match="--plans-dev"):
        check_plans_dev(tmp_path / "nowhere")
    (tmp_path / "SOURCES.md").write_text("notes", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="no .txt plan"):
        check_plans_dev(tmp_path)
    assert main(["eval", "--suite", "unseen", "--plans-dev", str(tmp_path / "nowhere"), "--no-progress"]) == 2
    assert "plans-dev folder" in capsys.readouterr().err


def test_plan_files_leave_out_folder_notes(tmp_path: Path) -> None:
    (tmp_path / "SOURCES.md").write_text("notes", encoding="utf-8")
    (tmp_path / "a_plan.txt").write_text("KẾ HOẠCH", encoding="utf-8")
    assert [f.name for f in plan_files(tmp_path)] == ["a_plan.txt"]


def test_accent_free_keeps_ids_and_expectations() -> None:
    it = GoldItem("u1", "Cơ quan nào chủ trì, Sở Y tế?", "lead_agency", ("d.txt",), ("1/KH",), "Sở Y tế",
                  ("Sở Y tế",), ("bằng chứng đủ dài ở đây",), True)
    (free,) = accent_free([it])
    assert free.question == "Co quan nao chu tri, So Y te?" and not free.accented
    assert (free.id, free.must_include, free.doc_files) == (it.id, it.must_include, it.doc_files)


# ---- metrics and gate ---------------------------------------------------------------------------------------------
def _ans(text: str, numbers: list[str | None], abstained: bool = False) -> dict:
    return {"answer": text, "abstained": abstained, "citations": [{"doc_number": n} for n in numbers]}


def test_number_cited() -> None:
    assert number_cited(_ans("Sở Y tế chủ trì.", ["174/KH-UBND", None]), ("174/KH-UBND",)) is True
    assert number_cited(_ans("Theo Kế hoạch số 174/KH-UBND: Sở Y tế.", [None]), ("174/KH-UBND",)) is True
    assert number_cited(_ans("theo ke hoach 174/kh-ubnd", []), ("174/KH-UBND",)) is True  # folded
    assert number_cited(_ans("Sở Y tế chủ trì.", [None, "157/KH-UBND"]), ("174/KH-UBND",)) is False
    assert number_cited(_ans("Số 1740/KH-UBND", []), ("174/KH-UBND",)) is False
    assert number_cited(_ans("Không tìm thấy", ["174/KH-UBND"], abstained=True), ("174/KH-UBND",)) is False
    assert number_cited(_ans("x", []), ()) is None
    many = [None] * 5 + ["174/KH-UBND"]
    assert number_cited(_ans("x", many), ("174/KH-UBND",)) is False  # only the first five citations count


def _rec(qid: str, ok: bool, cat: str = "lead_agency") -> dict:
    return {"id": qid, "category": cat, "accented": True, "doc_files": ["d.txt"], "answerable": True,
            "abstained": not ok, "abstain_ok": ok, "answer_ok": ok, "hit1": ok, "hit5": ok, "doc_hit5": True,
            "mrr10": float(ok), "number_cited": ok, "citation@1": 1.0, "citation_recall": 1.0,
            "citation_precision": 1.0, "evidence_cited": ok, "grounded_units": 1, "checked_units": 1}


def _suite_run(ok: dict[str, bool], sha: str = "abc") -> dict:
    res = summarise([_rec(q, v) for q, v in ok.items()], [])
    free = summarise([_rec(q, False) for q in ok], [])
    suites = {name: {"n": len(ok), "as_written": res, "accent_free": free} for name in ("bundled-dev", "unseen")}
    suites["bundled-test"] = {"n": len(ok), "sha256": sha, "as_written": res, "accent_free": free}
    return {"meta": {}, "suites": suites}


def test_suites_side_by_side_and_gate(tmp_path: Path) -> None:
    run = _suite_run({"a": True, "b": True, "c": False, "d": True})
    rows = dict(side_by_side(run["suites"]))
    assert list(rows) == ["bundled-dev · as written", "bundled-dev · accent-free", "bundled-test · as written",
                          "bundled-test · accent-free", "unseen · as written", "unseen · accent-free"]
    assert rows["unseen · as written"]["answer_accuracy"] == 0.75
    assert rows["unseen · as written"]["answerable_refused"] == 0.25 and rows["unseen · as written"]["n"] == 4
    base = baseline_from_run(run)
    assert base["frozen"] == {"bundled-test": "abc"}
    assert base["metrics"]["unseen/as_written/overall/number_cited"] == 0.75
    assert base["questions"]["unseen"]["c"]["answer"] == 0 and base["questions"]["unseen"]["a"]["answer"] == 1
    worse = _suite_run({"a": True, "b": False, "c": False, "d": True})
    res = compare(worse, base)
    assert not res.ok and "unseen/as_written/overall/answer_accuracy" in {r.metric for r in res.regressions}
    assert ("b", ("hit@1", "hit@5", "answer", "evidence", "abstain")) in {(f.qid, f.outcomes) for f in res.flips}


def test_gate_fails_when_the_frozen_test_half_changes() -> None:
    base = baseline_from_run(_suite_run({"a": True}))
    res = compare(_suite_run({"a": True}, sha="edited"), base)
    assert not res.ok and res.frozen_changed == ["bundled-test"] and not res.regressions
    assert "FROZEN gold file changed" in format_gate(res)


def test_update_baseline_adds_rows_and_keeps_existing(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    old = baseline_from_run({"meta": {}})
    old["metrics"] = {"gold/overall/hit@5": 0.99, "unseen/as_written/overall/answer_accuracy": 0.9}
    dump_baseline(old, path)
    added = update_baseline(_suite_run({"a": True, "b": False}), path)
    new = load_baseline(path)
    assert new["metrics"]["gold/overall/hit@5"] == 0.99  # rows of suites not run are kept
    assert new["metrics"]["unseen/as_written/overall/answer_accuracy"] == 0.9  # existing rows are never rewritten
    assert new["metrics"]["bundled-test/as_written/overall/answer_accuracy"] == 0.5
    assert added == len(new["metrics"]) - 2 and new["frozen"] == {"bundled-test": "abc"}
    assert set(new["questions"]["unseen"]) == {"a", "b"}


# ---- tests never reuse gold questions -----------------------------------------------------------------------------
def normalised(text: str) -> str:
    """Casefolded, diacritics stripped, whitespace collapsed, trailing punctuation dropped."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"\s+", " ", text).strip(" ?.!:;")


def gold_questions() -> dict[str, str]:
    out = {}
    for path in sorted(GOLD_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                out[normalised(obj["question"])] = f"{path.name}:{obj['id']}"
    return out


def string_literals(path: Path) -> list[str]:
    """Every string constant of a Python file (implicitly concatenated literals come out joined)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def reused_gold_questions(test_dir: Path, questions: dict[str, str]) -> list[str]:
    found = []
    for path in sorted(test_dir.glob("*.py")):
        for lit in string_literals(path):
            key = normalised(lit)
            hits = [q for q in questions if q == key or (len(q) >= 30 and q in key)]
            found += [f"{path.name}: {questions[q]} {lit[:70]!r}" for q in hits]
    return found


def test_no_test_reuses_a_gold_question() -> None:
    assert reused_gold_questions(Path(__file__).parent, gold_questions()) == []


def test_reuse_check_catches_copies(tmp_path: Path) -> None:
    questions = {normalised("Cơ quan nào chủ trì tuyên truyền Nghị quyết ở xã Hà Tây?"): "g:q1"}
    (tmp_path / "test_x.py").write_text('Q = "co quan nao chu tri tuyen truyen nghi quyet o xa Ha Tay"\n'
                                        'R = ("Cơ quan nào chủ trì tuyên truyền "\n     "Nghị quyết ở xã Hà Tây")\n'
                                        'S = "Cơ quan nào chủ trì?"\n', encoding="utf-8")
    assert len(reused_gold_questions(tmp_path, questions)) == 2


# ---- the unseen suite end to end, on two tiny plans ---------------------------------------------------------------
BUNDLED_PLAN = """ỦY BAN NHÂN DÂN XÃ AN BÌNH
Số: 12/KH-UBND
KẾ HOẠCH
Chăm sóc sức khỏe Nhân dân trên địa bàn xã An Bình
I. NHIỆM VỤ
1. Trạm Y tế xã chủ trì tổ chức khám sức khỏe định kỳ cho người cao tuổi, thời hạn hoàn thành năm 2027.
"""
UNSEEN_PLAN = """ỦY BAN NHÂN DÂN TỈNH BÌNH SƠN
Số: 345/KH-UBND
KẾ HOẠCH
Phát triển du lịch cộng đồng tỉnh Bình Sơn
I. TỔ CHỨC THỰC HIỆN
1. Sở Văn hóa, Thể thao và Du lịch chủ trì xây dựng bản đồ số các điểm du lịch cộng đồng
trên địa bàn tỉnh, hoàn thành trong quý II năm 2026.
"""


def test_run_unseen_on_tiny_plans(tmp_path: Path, retriever) -> None:
    from evals.suites import run_unseen

    corpus, plans = tmp_path / "corpus", tmp_path / "plans"
    corpus.mkdir()
    plans.mkdir()
    (corpus / "a_anbinh.txt").write_text(BUNDLED_PLAN, encoding="utf-8")
    (plans / "d9_binhson.txt").write_text(UNSEEN_PLAN, encoding="utf-8")
    (plans / "SOURCES.md").write_text("# notes about the folder, not a plan", encoding="utf-8")
    rows = [GoldItem("t1", "Cơ quan nào chủ trì xây dựng bản đồ số các điểm du lịch cộng đồng tỉnh Bình Sơn?",
                     "lead_agency", ("d9_binhson.txt",), ("345/KH-UBND",), "Sở Văn hóa, Thể thao và Du lịch.",
                     ("Sở Văn hóa, Thể thao và Du lịch",),
                     ("Sở Văn hóa, Thể thao và Du lịch chủ trì xây dựng bản đồ số",), True),
            GoldItem("t2", "Kế hoạch 999/KH-UBND của tỉnh Bình Sơn do ai ký?", "unanswerable", (), (), "Không có.",
                     (), (), True)]
    gold = tmp_path / "unseen.jsonl"
    gold.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    cache = tmp_path / "unseen-index"
    first = run_unseen(retriever, corpus, plans, cache, gold, progress=False)
    assert (first["n"], first["plans"], first["index_reused"]) == (2, 2, False)  # SOURCES.md is not a plan
    assert set(first["as_written"]["by_category"]) == {"lead_agency", "unanswerable"}
    free = {r["id"]: r["question"] for r in first["accent_free"]["records"]}
    assert free["t1"].startswith("Co quan nao chu tri xay dung ban do so")
    assert first["as_written"]["overall"]["doc_hit@5"] == 1.0
    again = run_unseen(retriever, corpus, plans, cache, gold, progress=False)
    assert again["index_reused"] and again["as_written"]["overall"] == first["as_written"]["overall"]
