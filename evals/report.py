"""Readable evaluation report (Markdown or HTML, chosen by the file extension) with an SVG per-category chart.

matplotlib is not a dependency of the project, so the chart is a hand-written SVG: written next to a Markdown
report (``<name>.categories.svg``) and inlined into an HTML one.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from evals.gate import GateResult

Block = tuple  # ("h", level, text) | ("p", text) | ("table", headers, rows) | ("svg", svg) | ("pre", text)

METRIC_DOCS: dict[str, str] = {
    "hit@1": "the top citation comes from a gold document and overlaps a gold evidence span",
    "hit@5": "one of the first five citations comes from a gold document and overlaps a gold evidence span",
    "mrr@10": "mean of 1/rank of the first citation that overlaps gold evidence, the question asked for ten "
              "citations (0 beyond rank 10); on XQuAD, 1/rank of the question's own paragraph among the search hits",
    "doc_hit@5": "one of the first five citations comes from a gold document (evidence not required)",
    "answer_accuracy": "the answer is not an abstention and contains every must_include string after accent folding "
                       "(OCR-garbled spellings accepted at ≥ 0.8 similarity; numbers must match exactly)",
    "citation@1": "the top citation's file is one of the gold files (0 when the system abstains)",
    "citation_recall": "share of the gold files found among the cited files (cross_doc questions need every plan)",
    "citation_precision": "share of the citations whose file is a gold file",
    "grounded_sentences": "share of answer sentences/quoted spans supported by one of the cited passages "
                          "(folded, whitespace-collapsed substring, or ≥ 80% of its content tokens in one passage); "
                          "over answered questions",
    "fully_grounded": "share of answers whose every sentence/quoted span is supported",
    "evidence_cited": "a gold evidence span of each gold file lies wholly inside the cited passages (their union)",
    "number_cited": "the plan's number (every gold document number) appears, after folding, in the answer or in the "
                    "document number of one of its first five citations (questions that name a plan only)",
    "answerable_refused": "share of answerable questions the system abstained on",
    "abstention_precision": "of the questions the system abstained on, the share that are unanswerable",
    "abstention_recall": "of the unanswerable questions, the share the system abstained on",
    "abstention_accuracy": "abstained on unanswerable questions and answered answerable ones",
    "recall@1": "XQuAD: the question's own paragraph is the top search hit",
    "recall@5": "XQuAD: the question's own paragraph is among the first five search hits",
    "answer_contains": "XQuAD: the answer text contains a gold answer span (whole tokens, after accent folding)",
    "top_passage_contains": "XQuAD: the top cited passage contains a gold answer span",
    "answer_or_top_contains": "XQuAD: the answer or the top cited passage contains a gold answer span",
    "top_paragraph@1": "XQuAD: the top citation of the full ask is the question's own paragraph",
    "abstained": "XQuAD: share of questions the full ask abstained on (every XQuAD question is answerable)",
}

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Retrieval (evidence-keyed)", ("hit@1", "hit@5", "mrr@10", "doc_hit@5")),
    ("Answers", ("answer_accuracy",)),
    ("Citations", ("citation@1", "citation_recall", "citation_precision")),
    ("Grounding", ("grounded_sentences", "fully_grounded", "evidence_cited")),
    ("Abstention (positive class: should abstain)", ("abstention_precision", "abstention_recall",
                                                     "abstention_accuracy")),
)
COLORS = ("#1f6feb", "#d29922", "#8957e5", "#2da44e", "#cf222e", "#6e7781")


def fmt(x: object) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


# ---- chart --------------------------------------------------------------------------------------------------------
def bar_chart_svg(title: str, groups: Sequence[str], series: dict[str, Sequence[float | None]],
                  width: int = 860, height: int = 260) -> str:
    """Grouped vertical bars (values 0..1), one colour per series, with a legend."""
    left, right, top, bottom = 40, 10, 34, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    n_series = max(1, len(series))
    gw = plot_w / max(1, len(groups))
    bw = gw * 0.8 / n_series
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick:.2f}</text>')
    for gi, g in enumerate(groups):
        x0 = left + gi * gw + gw * 0.1
        for si, (_, vals) in enumerate(series.items()):
            v = vals[gi]
            if v is None:
                continue
            h = plot_h * max(0.0, min(1.0, v))
            out.append(f'<rect x="{x0 + si * bw:.1f}" y="{top + plot_h - h:.1f}" width="{bw * 0.92:.1f}" '
                       f'height="{h:.1f}" fill="{COLORS[si % len(COLORS)]}"><title>{html.escape(g)}: '
                       f'{v:.3f}</title></rect>')
        out.append(f'<text x="{left + gi * gw + gw / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                   f'{html.escape(g)}</text>')
    lx = left
    for si, name in enumerate(series):
        y = height - 18
        out.append(f'<rect x="{lx}" y="{y - 9}" width="10" height="10" fill="{COLORS[si % len(COLORS)]}"/>')
        out.append(f'<text x="{lx + 14}" y="{y}">{html.escape(name)}</text>')
        lx += 14 + 7 * len(name) + 18
    out.append("</svg>")
    return "\n".join(out)


def category_chart(gold: dict, metrics: Sequence[str] = ("hit@5", "answer_accuracy")) -> str:
    """One SVG with a panel per metric: answerable categories × systems."""
    systems = gold["systems"]
    cats = [c for c, m in systems["project"]["by_category"].items() if m["answerable"]]
    panels = []
    for metric in metrics:
        series = {name: [res["by_category"].get(c, {}).get(metric) for c in cats] for name, res in systems.items()}
        panels.append(bar_chart_svg(f"Gold set: {metric} per category", cats, series))
    h = 260 * len(panels)
    inner = "".join(f'<g transform="translate(0,{260 * i})">{p}</g>' for i, p in enumerate(panels))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="860" height="{h}" viewBox="0 0 860 {h}">'
            f"{inner}</svg>")


# ---- content ------------------------------------------------------------------------------------------------------
def _system_table(gold: dict, metrics: Sequence[str]) -> Block:
    rows = [[gold["labels"].get(n, n)] + [fmt(res["overall"].get(m)) for m in metrics]
            for n, res in gold["systems"].items()]
    return ("table", ["system", *metrics], rows)


def _breakdown_table(gold: dict, section: str, metrics: Sequence[str]) -> Block:
    names = list(gold["systems"])
    groups = list(gold["systems"]["project"][section])
    head = [section[3:], "n"] + [f"{m} · {n}" for m in metrics for n in names]
    rows = []
    for g in groups:
        row = [g, fmt(gold["systems"]["project"][section][g]["n"])]
        row += [fmt(gold["systems"][n][section].get(g, {}).get(m)) for m in metrics for n in names]
        rows.append(row)
    return ("table", head, rows)


def _project_breakdown(gold: dict, section: str) -> Block:
    metrics = ("hit@1", "hit@5", "mrr@10", "answer_accuracy", "citation@1", "citation_recall",
               "grounded_sentences", "evidence_cited", "abstention_precision", "abstention_recall")
    rows = [[g, fmt(m["n"])] + [fmt(m.get(k)) for k in metrics]
            for g, m in gold["systems"]["project"][section].items()]
    return ("table", [section[3:], "n", *metrics], rows)


def _headline(gold: dict) -> list[Block]:
    proj = gold["systems"]["project"]["overall"]
    base = {n: r["overall"] for n, r in gold["systems"].items() if n != "project"}
    if not base:
        return []
    lines = []
    for m in ("answer_accuracy", "hit@5"):
        best_name = max(base, key=lambda n: base[n][m] or 0)
        gap = (proj[m] - (base[best_name][m] or 0)) * 100
        verdict = "meets" if gap >= 10 else "MISSES"
        lines.append(f"{m}: project {fmt(proj[m])} vs best baseline {fmt(base[best_name][m])} "
                     f"({gold['labels'].get(best_name, best_name)}): {gap:+.1f} points — {verdict} the ≥ 10-point bar.")
    return [("p", line) for line in lines]


def gold_blocks(gold: dict) -> list[Block]:
    blocks: list[Block] = [("h", 2, "Gold set: project vs baselines"),
                           ("p", f"{gold['path']} — {gold['n']} questions. Every system is asked for "
                                 f"{gold['cite_k']} citations (what a user sees; a cross-document answer may carry "
                                 f"one per plan it quotes) and scored on that answer; MRR@10 comes from the same "
                                 f"question asked for {gold['deep_k']}. Baselines answer with their top passage "
                                 f"and never abstain.")]
    blocks += _headline(gold)
    for title, metrics in GROUPS:
        blocks += [("h", 3, title), _system_table(gold, metrics)]
        blocks += [("p", f"{m}: {METRIC_DOCS[m]}.") for m in metrics]
    blocks += [("h", 3, "Per category (hit@5 and answer accuracy, every system)"), ("svg", category_chart(gold)),
               _breakdown_table(gold, "by_category", ("hit@5", "answer_accuracy")),
               ("h", 3, "Accented vs accent-free questions"),
               _breakdown_table(gold, "by_accent", ("hit@5", "answer_accuracy")),
               ("h", 3, "Per document"), _breakdown_table(gold, "by_document", ("hit@5", "answer_accuracy")),
               ("h", 3, "Project, every metric, per category"), _project_breakdown(gold, "by_category"),
               ("h", 3, "Project, every metric, accented vs accent-free"), _project_breakdown(gold, "by_accent"),
               ("h", 3, "Project, every metric, per document"), _project_breakdown(gold, "by_document")]
    lat = gold["systems"]["project"].get("latency_ms")
    if lat:
        blocks.append(("p", f"Project latency per question (warm library call, {gold['cite_k']} citations): "
                            f"p50 {lat['p50']} ms, p95 {lat['p95']} ms."))
    if gold.get("fusion"):
        blocks += fusion_blocks(gold["fusion"])
    return blocks


def fusion_blocks(fusion: dict) -> list[Block]:
    s = fusion["settings"]
    metrics = ("hit@1", "hit@5", "mrr@10", "answer_accuracy", "evidence_cited", "abstention_accuracy")
    rows = [[f"{name}{' (default)' if name == s['default'] else ''}"] + [fmt(m.get(k)) for k in metrics]
            for name, m in fusion["overall"].items()]
    return [("h", 3, "Fusion: weighted vs reciprocal-rank, gold set"),
            ("p", f"Weights lexical {s['lexical_weight']} / dense {s['dense_weight']}, depth {s['depth']}, "
                  f"RRF k {s['rrf_k']}; everything else unchanged."),
            ("table", ["fusion", *metrics], rows)]


def xquad_blocks(xq: dict) -> list[Block]:
    h = xq["hybrid"]
    rows = [[r["label"]] + [fmt(r[f][m]) for f in ("as_written", "accent_free")
                            for m in ("recall@1", "recall@5", "mrr@10")] for r in xq["rows"].values()]
    head = ["row", "recall@1", "recall@5", "MRR@10", "accent-free recall@1", "accent-free recall@5",
            "accent-free MRR@10"]
    blocks: list[Block] = [
        ("h", 2, "External benchmark: XQuAD-vi"),
        ("p", f"{xq['paragraphs']} paragraphs indexed with the project's index machinery (one document and one chunk "
              f"per paragraph), {xq['questions']} questions; project fusion {h['fusion']} (lexical "
              f"{h['lexical_weight']} / dense {h['dense_weight']}, depth {h['depth']}, RRF k {h['rrf_k']}). "
              f"Accent-free: every question stripped of its diacritics."),
        ("table", head, rows)]
    if xq.get("ask"):
        a = xq["ask"]
        keys = ("answer_contains", "top_passage_contains", "answer_or_top_contains", "top_paragraph@1", "abstained")
        blocks += [("h", 3, "XQuAD-vi through the full ask"), ("table", ["n", *keys], [[fmt(a["n"])] +
                                                                                      [fmt(a[k]) for k in keys]])]
    return blocks


def split_blocks(suites: dict) -> list[Block]:
    """bundled-dev, bundled-test and unseen side by side, as written and accent-free; unseen per category."""
    from evals.suites import TABLE_METRICS, side_by_side

    rows = [[label] + [fmt(m.get(k)) for k in TABLE_METRICS] for label, m in side_by_side(suites)]
    blocks: list[Block] = [
        ("h", 2, "Held-out and unseen plans: bundled-dev, bundled-test, unseen"),
        ("p", "Project only. bundled-dev and bundled-test are the two halves of the bundled gold set (tuning on dev "
              "only; test is frozen). unseen asks questions about plans the project was not built on, over an index "
              "of the bundled plans plus those plans. Accent-free: every question asked again with its diacritics "
              "stripped."),
        ("table", ["suite · form", *TABLE_METRICS], rows)]
    unseen = suites.get("unseen")
    if unseen:
        cats = unseen["as_written"]["by_category"]
        metrics = ("answer_accuracy", "doc_hit@5", "number_cited", "answerable_refused", "hit@5")
        blocks += [("h", 3, "Unseen plans per category (as written)"),
                   ("table", ["category", "n", *metrics],
                    [[c, fmt(m["n"])] + [fmt(m.get(k)) for k in metrics] for c, m in cats.items()]),
                   ("h", 3, "Unseen plans per plan (as written)"),
                   ("table", ["plan", "n", *metrics],
                    [[d, fmt(m["n"])] + [fmt(m.get(k)) for k in metrics]
                     for d, m in unseen["as_written"]["by_document"].items()]),
                   ("p", f"{unseen['n']} questions, {unseen['plans']} plans indexed from {unseen['plans_dir']} and the "
                         f"bundled corpus (index {'reused' if unseen['index_reused'] else 'built'}: "
                         f"{unseen['seconds']['index']} s; asking {unseen['seconds']['ask']} s).")]
    return blocks


def gate_blocks(res: GateResult, baseline_path: str) -> list[Block]:
    blocks: list[Block] = [("h", 2, "Regression gate"),
                           ("p", f"Against {baseline_path} at tolerance {res.tolerance} (absolute): "
                                 f"{'PASS' if res.ok else 'FAIL'}; {res.compared} metrics compared, "
                                 f"{len(res.regressions)} regressed, {len(res.flips)} questions right→wrong, "
                                 f"{len(res.fixed)} wrong→right.")]
    if res.frozen_changed:
        blocks.append(("p", f"FROZEN gold file changed: {', '.join(res.frozen_changed)} (checksum differs from the "
                            f"baseline's)."))
    if res.regressions:
        blocks.append(("table", ["metric", "baseline", "now"],
                       [[r.metric, fmt(r.baseline), fmt(r.current)] for r in res.regressions]))
    if res.flips:
        blocks.append(("table", ["suite", "question", "right → wrong"],
                       [[f.suite, f.qid, ", ".join(f.outcomes)] for f in res.flips]))
    return blocks


def meta_blocks(meta: dict) -> list[Block]:
    m = meta.get("machine", {})
    lines = [f"Created {meta.get('created')} in {meta.get('seconds')} s on {m.get('cpu')} "
             f"({m.get('cores')} cores, torch threads {m.get('torch_threads')}), Python {m.get('python')}.",
             f"Command: `{meta.get('command')}`", f"Index: {meta.get('index_dir')}; model: {meta.get('model')}."]
    return [("p", x) for x in lines]


def definitions() -> list[Block]:
    return [("h", 2, "Metrics"), ("table", ["metric", "definition"], [[k, v] for k, v in METRIC_DOCS.items()])]


def build_blocks(run: dict, gate: GateResult | None = None, baseline_path: str = "") -> list[Block]:
    blocks: list[Block] = [("h", 1, "kehoach-qa evaluation report"), *meta_blocks(run.get("meta", {}))]
    if gate is not None:
        blocks += gate_blocks(gate, baseline_path)
    if run.get("suites"):
        blocks += split_blocks(run["suites"])
    if run.get("gold"):
        blocks += gold_blocks(run["gold"])
    if run.get("xquad"):
        blocks += xquad_blocks(run["xquad"])
    if run.get("alqac"):
        from evals.alqac import alqac_blocks

        blocks += alqac_blocks(run["alqac"])
    return blocks + definitions()


# ---- rendering ----------------------------------------------------------------------------------------------------
def _md_cell(x: str) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: Sequence[Block], svg_name: str) -> tuple[str, list[str]]:
    """Markdown text and the SVGs it links to (written by the caller as ``svg_name`` 1, 2, …)."""
    out, svgs = [], []
    for b in blocks:
        if b[0] == "h":
            out.append(f"{'#' * b[1]} {b[2]}\n")
        elif b[0] == "p":
            out.append(f"{b[1]}\n")
        elif b[0] == "table":
            out.append("| " + " | ".join(_md_cell(h) for h in b[1]) + " |")
            out.append("|" + "|".join("---" for _ in b[1]) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b[2]]
            out.append("")
        elif b[0] == "svg":
            svgs.append(b[1])
            name = svg_name if len(svgs) == 1 else svg_name.replace(".svg", f".{len(svgs)}.svg")
            out.append(f"![per-category scores]({name})\n")
    return "\n".join(out), svgs


def render_html(blocks: Sequence[Block]) -> str:
    out = ['<!doctype html><html lang="en"><head><meta charset="utf-8"><title>kehoach-qa evaluation</title>',
           "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
           "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
           "text-align:right}td:first-child,th:first-child{text-align:left}</style></head><body>"]
    for b in blocks:
        if b[0] == "h":
            out.append(f"<h{b[1]}>{html.escape(b[2])}</h{b[1]}>")
        elif b[0] == "p":
            out.append(f"<p>{html.escape(b[1])}</p>")
        elif b[0] == "table":
            out.append("<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in b[1]) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in b[2]]
            out.append("</table>")
        elif b[0] == "svg":
            out.append(f"<figure>{b[1]}</figure>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(run: dict, path: Path, gate: GateResult | None = None, baseline_path: str = "") -> list[Path]:
    """Write ``path`` (.md/.markdown or .html/.htm) and, for Markdown, its SVG chart(s); return the files."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".md", ".markdown", ".html", ".htm"):
        raise ValueError(f"--report {path}: use a .md or .html file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = build_blocks(run, gate, baseline_path)
    if suffix in (".html", ".htm"):
        path.write_text(render_html(blocks), encoding="utf-8")
        return [path]
    svg_name = f"{path.stem}.categories.svg"
    text, svgs = render_markdown(blocks, svg_name)
    path.write_text(text, encoding="utf-8")
    written = [path]
    for i, svg in enumerate(svgs, start=1):
        name = svg_name if i == 1 else svg_name.replace(".svg", f".{i}.svg")
        (path.parent / name).write_text(svg, encoding="utf-8")
        written.append(path.parent / name)
    return written
