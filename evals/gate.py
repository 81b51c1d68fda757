"""Regression gate: compare a run with stored metrics and per-question outcomes (``evals/baseline.json``).

A metric *regresses* when it falls more than the tolerance (absolute, default 0.02) below its stored value,
or becomes undefined where it had a value.  Every gated metric is higher-is-better.  The gate fails on any
regressed metric; questions that went from right to wrong are always listed (a flip alone, with every
aggregate within tolerance, is reported but does not fail the gate).  Only suites present in both the run and
the baseline are compared.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TOLERANCE = 0.02
FORMAT = 1

GOLD_METRICS = ("hit@1", "hit@5", "mrr@10", "answer_accuracy", "citation@1", "citation_recall",
                "grounded_sentences", "evidence_cited", "abstention_precision", "abstention_recall")
XQUAD_SEARCH_METRICS = ("recall@1", "recall@5", "mrr@10")
XQUAD_ASK_METRICS = ("answer_contains", "top_passage_contains", "answer_or_top_contains")
GOLD_OUTCOMES = {"hit@1": "hit1", "hit@5": "hit5", "answer": "answer_ok", "citation@1": "citation@1",
                 "evidence": "evidence_cited", "abstain": "abstain_ok"}


@dataclass(frozen=True)
class Regression:
    metric: str
    baseline: float | None
    current: float | None

    def __str__(self) -> str:
        return f"{self.metric}: {self.baseline} -> {self.current}"


@dataclass(frozen=True)
class Flip:
    suite: str
    qid: str
    outcomes: tuple[str, ...]  # outcomes that were right in the baseline and are wrong now

    def __str__(self) -> str:
        return f"{self.suite}:{self.qid} ({', '.join(self.outcomes)})"


@dataclass
class GateResult:
    tolerance: float
    compared: int = 0
    regressions: list[Regression] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    fixed: list[Flip] = field(default_factory=list)  # wrong in the baseline, right now
    skipped: list[str] = field(default_factory=list)  # suites in the baseline that this run did not run

    @property
    def ok(self) -> bool:
        return not self.regressions


# ---- what a run exposes -------------------------------------------------------------------------------------------
def _gold_metrics(gold: dict) -> Iterator[tuple[str, float | None]]:
    proj = gold["systems"]["project"]
    groups = [("gold/overall", proj["overall"])]
    groups += [(f"gold/category/{c}", m) for c, m in proj["by_category"].items()]
    groups += [(f"gold/accent/{a}", m) for a, m in proj["by_accent"].items()]
    for prefix, m in groups:
        for name in GOLD_METRICS:
            if name in m and (m[name] is not None or name.startswith("abstention")):
                yield f"{prefix}/{name}", m[name]


def _xquad_metrics(xq: dict) -> Iterator[tuple[str, float | None]]:
    row = xq["rows"]["project"]
    for form in ("as_written", "accent_free"):
        for name in XQUAD_SEARCH_METRICS:
            yield f"xquad/project/{form}/{name}", row[form][name]
    for name in XQUAD_ASK_METRICS if xq.get("ask") else ():
        yield f"xquad/ask/{name}", xq["ask"][name]


def flat_metrics(run: dict) -> dict[str, float | None]:
    """``{"gold/category/target/hit@5": 0.97, "xquad/project/accent_free/recall@1": 0.95, ...}``."""
    out: dict[str, float | None] = {}
    if run.get("gold"):
        out.update(_gold_metrics(run["gold"]))
    if run.get("xquad"):
        out.update(_xquad_metrics(run["xquad"]))
    return out


def question_outcomes(run: dict) -> dict[str, dict[str, dict[str, int]]]:
    """Per suite, per question: which outcomes were right (1) or wrong (0)."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    if run.get("gold"):
        out["gold"] = {r["id"]: {k: int(bool(r[f])) for k, f in GOLD_OUTCOMES.items() if f in r}
                       for r in run["gold"]["systems"]["project"]["records"]}
    if run.get("xquad"):
        out["xquad"] = {}
        for r in run["xquad"]["records"]:
            o = {"recall@1": int(r["ranks"]["project"] == 1),
                 "recall@5": int(r["ranks"]["project"] is not None and r["ranks"]["project"] <= 5),
                 "accent_free@1": int(r["ranks_accent_free"]["project"] == 1)}
            if "answer_or_top_contains" in r:
                o["answer_or_top"] = int(r["answer_or_top_contains"])
            out["xquad"][r["id"]] = o
    return out


def suites_of(run: dict) -> list[str]:
    return [s for s in ("gold", "xquad") if run.get(s)]


# ---- baseline file ------------------------------------------------------------------------------------------------
def baseline_from_run(run: dict, tolerance: float = DEFAULT_TOLERANCE) -> dict:
    return {"format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tolerance": tolerance, "suites": suites_of(run), "machine": run.get("meta", {}).get("machine"),
            "metrics": flat_metrics(run), "questions": question_outcomes(run)}


def write_baseline(run: dict, path: Path, tolerance: float = DEFAULT_TOLERANCE) -> None:
    """Pretty JSON, one question per line (small, reviewable diffs)."""
    b = baseline_from_run(run, tolerance)
    lines = ["{"]
    for key in ("format", "created", "tolerance", "suites", "machine"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(b[key], ensure_ascii=False)},")
    lines.append('  "metrics": {')
    items = list(b["metrics"].items())
    lines += [f"    {json.dumps(k)}: {json.dumps(v)}{',' if i < len(items) - 1 else ''}"
              for i, (k, v) in enumerate(items)]
    lines.append("  },")
    lines.append('  "questions": {')
    suites = list(b["questions"].items())
    for si, (suite, qs) in enumerate(suites):
        lines.append(f"    {json.dumps(suite)}: {{")
        qitems = list(qs.items())
        lines += [f"      {json.dumps(q)}: {json.dumps(o, separators=(',', ':'))}{',' if i < len(qitems) - 1 else ''}"
                  for i, (q, o) in enumerate(qitems)]
        lines.append("    }" + ("," if si < len(suites) - 1 else ""))
    lines += ["  }", "}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_baseline(path: Path) -> dict:
    if not Path(path).is_file():
        raise FileNotFoundError(f"baseline {path} not found; create it with `kehoach eval --write-baseline {path}`")
    try:
        b = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"baseline {path} is not valid JSON ({exc.msg})") from exc
    if not isinstance(b, dict) or b.get("format") != FORMAT or not isinstance(b.get("metrics"), dict):
        raise ValueError(f"baseline {path} is not a format-{FORMAT} baseline; rewrite it with --write-baseline")
    return b


# ---- comparing ----------------------------------------------------------------------------------------------------
def _suite(key: str) -> str:
    return key.split("/", 1)[0]


def compare(run: dict, baseline: dict, tolerance: float = DEFAULT_TOLERANCE) -> GateResult:
    """Metrics that fell more than ``tolerance`` below the baseline, and questions that flipped."""
    res = GateResult(tolerance=tolerance)
    ran = set(suites_of(run))
    res.skipped = sorted({_suite(k) for k in baseline["metrics"]} - ran)
    current = flat_metrics(run)
    for key, base in baseline["metrics"].items():
        if _suite(key) not in ran or base is None:
            continue
        res.compared += 1
        cur = current.get(key)
        if cur is None or cur < base - tolerance - 1e-9:
            res.regressions.append(Regression(key, base, cur))
    outcomes = question_outcomes(run)
    for suite, qs in baseline.get("questions", {}).items():
        now = outcomes.get(suite)
        if now is None:
            continue
        for qid, before in qs.items():
            after = now.get(qid)
            if after is None:
                continue
            lost = tuple(k for k, v in before.items() if v and not after.get(k, 0))
            won = tuple(k for k, v in after.items() if v and not before.get(k, 0))
            if lost:
                res.flips.append(Flip(suite, qid, lost))
            if won:
                res.fixed.append(Flip(suite, qid, won))
    return res


def format_gate(res: GateResult, limit: int = 60) -> str:
    head = (f"gate: {'PASS' if res.ok else 'FAIL'} — {res.compared} metrics compared at tolerance {res.tolerance}, "
            f"{len(res.regressions)} regressed, {len(res.flips)} questions right→wrong, {len(res.fixed)} wrong→right")
    lines = [head]
    if res.skipped:
        lines.append(f"  not run here (not compared): {', '.join(res.skipped)}")
    if res.regressions:
        lines.append("  regressed metrics (baseline -> now):")
        lines += [f"    {r}" for r in res.regressions]
    if res.flips:
        lines.append("  questions that went from right to wrong:")
        lines += [f"    {f}" for f in res.flips[:limit]]
        if len(res.flips) > limit:
            lines.append(f"    … and {len(res.flips) - limit} more (see the report)")
    return "\n".join(lines)
