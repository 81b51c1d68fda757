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
ALQAC_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "f2@1", "f2_cut")
XQUAD_ASK_METRICS = ("answer_contains", "top_passage_contains", "answer_or_top_contains")
SPLIT_SUITES = ("bundled-dev", "bundled-test", "unseen")  # run["suites"], each as_written and accent_free
SPLIT_METRICS = ("hit@5", "doc_hit@5", "answer_accuracy", "number_cited", "answerable_answered", "citation@1",
                 "evidence_cited", "abstention_precision", "abstention_recall")
SPLIT_CATEGORY_METRICS = ("hit@5", "answer_accuracy")
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
    frozen_changed: list[str] = field(default_factory=list)  # frozen gold files whose checksum differs
    flips: list[Flip] = field(default_factory=list)
    fixed: list[Flip] = field(default_factory=list)  # wrong in the baseline, right now
    skipped: list[str] = field(default_factory=list)  # suites in the baseline that this run did not run

    @property
    def ok(self) -> bool:
        return not self.regressions and not self.frozen_changed


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


def _split_metrics(name: str, suite: dict) -> Iterator[tuple[str, float | None]]:
    for form in ("as_written", "accent_free"):
        res = suite[form]
        for metric in SPLIT_METRICS:
            value = res["overall"].get(metric)
            if value is not None or metric.startswith("abstention"):
                yield f"{name}/{form}/overall/{metric}", value
        for cat, m in res["by_category"].items() if form == "as_written" else ():
            for metric in SPLIT_CATEGORY_METRICS:
                if m.get(metric) is not None:
                    yield f"{name}/{form}/category/{cat}/{metric}", m[metric]


def _xquad_metrics(xq: dict) -> Iterator[tuple[str, float | None]]:
    row = xq["rows"]["project"]
    for form in ("as_written", "accent_free"):
        for name in XQUAD_SEARCH_METRICS:
            yield f"xquad/project/{form}/{name}", row[form][name]
    for name in XQUAD_ASK_METRICS if xq.get("ask") else ():
        yield f"xquad/ask/{name}", xq["ask"][name]


def _alqac_metrics(aq: dict) -> Iterator[tuple[str, float | None]]:
    """The project row per subset, keyed by which run it was (ci or full), so the two never compare."""
    for sub, m in aq["rows"]["project"]["by_subset"].items():
        for name in ALQAC_METRICS:
            if m.get(name) is not None:
                yield f"alqac/{aq['run']}/{sub}/{name}", m[name]


def flat_metrics(run: dict) -> dict[str, float | None]:
    """``{"gold/category/target/hit@5": 0.97, "xquad/project/accent_free/recall@1": 0.95, ...}``."""
    out: dict[str, float | None] = {}
    if run.get("gold"):
        out.update(_gold_metrics(run["gold"]))
    for name, suite in (run.get("suites") or {}).items():
        out.update(_split_metrics(name, suite))
    if run.get("xquad"):
        out.update(_xquad_metrics(run["xquad"]))
    if run.get("alqac"):
        out.update(_alqac_metrics(run["alqac"]))
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
    unseen = (run.get("suites") or {}).get("unseen")
    if unseen:
        free = {r["id"]: r for r in unseen["accent_free"]["records"]}
        out["unseen"] = {r["id"]: {**{k: int(bool(r[f])) for k, f in GOLD_OUTCOMES.items() if f in r},
                                   "accent_free_answer": int(bool(free[r["id"]].get("answer_ok",
                                                                                    free[r["id"]]["abstain_ok"])))}
                         for r in unseen["as_written"]["records"]}
    return out


def suites_of(run: dict) -> list[str]:
    split = run.get("suites") or {}
    return [s for s in ("gold", "xquad") if run.get(s)] + [s for s in SPLIT_SUITES if s in split]


def frozen_checksums(run: dict) -> dict[str, str]:
    """SHA-256 of each frozen gold file the run used (the bundled-test half)."""
    test = (run.get("suites") or {}).get("bundled-test")
    return {"bundled-test": test["sha256"]} if test and test.get("sha256") else {}


# ---- baseline file ------------------------------------------------------------------------------------------------
def baseline_from_run(run: dict, tolerance: float = DEFAULT_TOLERANCE) -> dict:
    return {"format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tolerance": tolerance, "suites": suites_of(run), "machine": run.get("meta", {}).get("machine"),
            "frozen": frozen_checksums(run), "metrics": flat_metrics(run), "questions": question_outcomes(run)}


def write_baseline(run: dict, path: Path, tolerance: float = DEFAULT_TOLERANCE) -> None:
    """Store ``run`` as the baseline at ``path``."""
    dump_baseline(baseline_from_run(run, tolerance), path)


def update_baseline(run: dict, path: Path) -> int:
    """Add to the baseline at ``path`` the metrics, questions, suites and frozen checksums of ``run`` that it lacks;
    rows it already has are kept as they are (never loosened).  Returns the number of metrics added."""
    b = load_baseline(path)
    new = baseline_from_run(run, b.get("tolerance", DEFAULT_TOLERANCE))
    added = {k: v for k, v in new["metrics"].items() if k not in b["metrics"]}
    b["metrics"].update(added)
    for suite, qs in new["questions"].items():
        old = b.setdefault("questions", {}).setdefault(suite, {})
        old.update({q: o for q, o in qs.items() if q not in old})
    b["suites"] = list(dict.fromkeys([*b.get("suites", []), *new["suites"]]))
    b["frozen"] = {**new["frozen"], **b.get("frozen", {})}
    b["created"] = new["created"]
    dump_baseline(b, path)
    return len(added)


def dump_baseline(b: dict, path: Path) -> None:
    """Pretty JSON, one question per line (small, reviewable diffs)."""
    b = {"frozen": {}, **b}
    lines = ["{"]
    for key in ("format", "created", "tolerance", "suites", "machine", "frozen"):
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
    now = frozen_checksums(run)
    res.frozen_changed = sorted(k for k, v in baseline.get("frozen", {}).items() if k in now and now[k] != v)
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
    if res.frozen_changed:
        lines.append(f"  FROZEN gold file changed (checksum differs from the baseline's): "
                     f"{', '.join(res.frozen_changed)} — the test half is not to be edited; see evals/gold/README.md")
    if res.regressions:
        lines.append("  regressed metrics (baseline -> now):")
        lines += [f"    {r}" for r in res.regressions]
    if res.flips:
        lines.append("  questions that went from right to wrong:")
        lines += [f"    {f}" for f in res.flips[:limit]]
        if len(res.flips) > limit:
            lines.append(f"    … and {len(res.flips) - limit} more (see the report)")
    return "\n".join(lines)
