"""Every threshold of the answer stages, named, with the reason it has the value it has."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerSettings:
    """Tuning of scope, relevance gate, answer-type checks and composers (defaults measured on the dev split)."""

    k: int = 5  # citations returned when the caller does not ask for another number
    search_depth: int = 10  # fused hits searched per question: composers look past the k cited ones
    # relevance gate ---------------------------------------------------------------------------------
    min_coverage: float = 0.3  # share of the question's topic (IDF mass) found in the best passage …
    min_dense: float = 0.83  # … or cosine of the best passage; either one lets the answer checks run
    gate_hits: int = 5  # passages the gate looks at: the answer is quoted from one of them
    # answer-type checks -----------------------------------------------------------------------------
    factual_topic_min: float = 0.25  # a number/date/amount answer must share this much of the question's topic
    target_topic_min: float = 0.5  # a target's sentence and its surroundings must share half of the topic
    context_before: int = 200  # characters before a quoted window that still describe it (table headers)
    context_after: int = 50  # … and after it (a unit or period printed on the next line)
    # passage windows --------------------------------------------------------------------------------
    window_hits: int = 5  # top passages searched for a one- or two-sentence answer window
    pair_discount: float = 0.92  # a two-sentence window must score clearly above one sentence to be preferred
    long_sentence: int = 400  # a sentence this long is already a full answer: never add a second one
    rank_decay: float = 0.15  # later passages' windows score 1 / (1 + decay × rank)
    intent_bonus: float = 1.3  # a window printing the asked relation ("chủ trì", "phối hợp", a deadline word)
    digit_bonus: float = 1.25  # target and deadline answers hold a number
    short_window: int = 25  # windows shorter than this are headings or fragments …
    short_penalty: float = 0.5  # … and count half
    # structured facts -------------------------------------------------------------------------------
    min_assignment_match: float = 0.45  # share of the question's topic (IDF mass) an assignment's text must hold
    assignment_rank_hits: int = 10  # hits whose assignments get a rank bonus
    assignment_specific: float = 0.5  # share of an assignment's match weighing words by their rarity among the
    # plan's own tasks: words every task of a plan repeats (its title) do not tell its tasks apart
    assignment_fact_margin: float = 0.1  # a task printing the asked deadline / coordinators is preferred to a
    # better-matching one without it when it matches within this much of the best score
    target_fit_min: float = 0.5  # a target answers only if the question's extra topic words are printed near it
    targets_per_plan: int = 3  # distinct (value, period) targets listed per plan
    target_plans_from_hits: int = 3  # unscoped target questions keep the plan of the best of these passages
    row_span_max: int = 320  # a "sentence" longer than this around a target is a table row …
    row_lead_max: int = 200  # … or one whose start is this far before the value: quote the row's line instead
    max_tasks_listed: int = 12  # an agency's tasks listed in one answer (the rest via `kehoach assignments`)
    cross_plan_hits: int = 3  # passages per plan searched for a cross-plan comparison
    # quoting ----------------------------------------------------------------------------------------
    quote_assignment: int = 420  # characters of an assignment's source row quoted in the answer
    quote_target: int = 300  # characters of a target's sentence quoted
    task_clip: int = 220  # characters of a task described in an assignment answer
    task_clip_listed: int = 160  # … and in a list of an agency's tasks
    meta_evidence: int = 300  # characters of the header passage kept as a meta answer's evidence
    signature_window: int = 200  # characters above the signer's name where the signer's title is printed
