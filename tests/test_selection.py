"""Which assignment answers a question, on made-up records (no model, no index): the words a whole plan
repeats (its title) must not decide between its tasks; the words that tell its tasks apart must."""

from __future__ import annotations

import math

import pytest

from ingest.assignment_record import Assignment
from retriever.composers.assignment import pick_assignment, prints_asked_fact
from retriever.composers.wording import describe_assignment
from retriever.facts import FactIndex, Scored

TITLE = "Luật Bảo tồn biển đảo"
# one plan whose tasks all repeat the plan's title, except the one about training
TASKS = (
    "Tổ chức tập huấn, bồi dưỡng nghiệp vụ cho cán bộ về nội dung Luật",
    f"Rà soát nghị định hướng dẫn {TITLE}",
    f"Góp ý dự thảo thông tư hướng dẫn {TITLE}",
    f"Kiểm tra việc thi hành {TITLE}",
)
OTHER_PLAN = ("Tổ chức hội chợ nông sản của tỉnh", "Tập huấn kỹ năng bán hàng trực tuyến")


def _records(doc_id: str, tasks: tuple[str, ...], lead: str) -> tuple[str, list[Assignment]]:
    text, out = "", []
    for i, task in enumerate(tasks, start=1):
        start = len(text)
        text += f"{i}. {task}. Cơ quan chủ trì: {lead}.\n"
        out.append(Assignment(doc_id, task, (lead,), (), None, None, (), (str(i),), start, len(text), "prose",
                              str(i), "high"))
    return text, out


@pytest.fixture(scope="module")
def facts() -> FactIndex:
    text_a, recs_a = _records("plan_a", TASKS, "Sở Khoa học và Công nghệ")
    text_b, recs_b = _records("plan_b", OTHER_PLAN, "Sở Công Thương")
    records = recs_a + recs_b
    n = len(records)
    words: dict[str, int] = {}
    for a in records:
        for w in set(FactIndex({}, [], [], {}).topic_words(a.task, ())):
            words[w] = words.get(w, 0) + 1
    idf = {w: math.log(1 + n / df) for w, df in words.items()}
    return FactIndex({"plan_a": text_a, "plan_b": text_b}, records, [], idf)


QUESTION = "Cơ quan nào tập huấn về Luật Bảo tồn biển đảo?"


def test_title_words_outvote_the_task_words_without_plan_weighting(facts):
    best = facts.match_assignments(QUESTION, (), ["plan_a"], {}, limit=1)
    assert best[0].record.task != TASKS[0]  # the plain share of IDF mass prefers a sibling repeating the title


def test_plan_weighting_picks_the_task_the_question_describes(facts):
    best = facts.match_assignments(QUESTION, (), ["plan_a"], {}, limit=1, specific=0.5)
    assert best[0].record.task == TASKS[0]


def test_plan_weighting_keeps_scores_a_share_and_leaves_other_plans_comparable(facts):
    ranked = facts.match_assignments(QUESTION, (), None, {}, specific=0.5)
    assert all(0 < s.score <= 1 for s in ranked)
    assert ranked[0].record.doc_id == "plan_a"  # the other plan shares one task word only
    plain = {(s.record.doc_id, s.record.start): s.score for s in facts.match_assignments(QUESTION, (), None, {})}
    for s in ranked:  # a record of a plan holding no title word scores what it scored before, up to the weighting
        if s.record.doc_id == "plan_b":
            assert s.score == pytest.approx(plain[("plan_b", s.record.start)], rel=0.5)


def test_plan_weighting_of_zero_is_the_plain_share(facts):
    plain = facts.match_assignments(QUESTION, (), None, {})
    same = facts.match_assignments(QUESTION, (), None, {}, specific=0.0)
    assert [(s.score, s.record.start) for s in plain] == [(s.score, s.record.start) for s in same]


def _task(deadline: str | None = None, coordinating: tuple[str, ...] = (), task: str = "Tổ chức tập huấn",
          lead: tuple[str, ...] = ("Sở Nội vụ",)) -> Assignment:
    return Assignment("p", task, lead, coordinating, deadline, None, (), ("1",), 0, 10,
                      "prose", "1", "high" if lead else "low")


def test_a_task_printing_the_asked_fact_is_preferred_when_it_matches_nearly_as_well():
    bare, dated = _task(), _task(deadline="Quý IV năm 2026")
    ranked = [Scored(0.80, bare), Scored(0.75, dated)]
    assert pick_assignment(ranked, "deadline", 0.45, 0.1) is dated
    assert pick_assignment(ranked, "lead", 0.45, 0.1) is bare  # a lead question takes the best match
    assert pick_assignment([Scored(0.80, bare), Scored(0.60, dated)], "deadline", 0.45, 0.1) is None
    helped = _task(coordinating=("Sở Tài chính",))
    assert pick_assignment([Scored(0.7, bare), Scored(0.65, helped)], "coordination", 0.45, 0.1) is helped
    # no coordinators anywhere near: the best task still answers (it names the lead, says none printed)
    assert pick_assignment([Scored(0.7, bare)], "coordination", 0.45, 0.1) is bare
    assert pick_assignment([Scored(0.4, dated)], "deadline", 0.45, 0.1) is None  # below the match floor


def test_a_lead_question_prefers_a_task_whose_lead_was_read():
    # an item whose subject the grammar could not read ("Căn cứ …, các sở … xây dựng …") gives way to a
    # near match that names its lead; alone, or far ahead, it still answers (saying the lead is not printed)
    unread, named = _task(lead=()), _task()
    assert pick_assignment([Scored(0.71, unread), Scored(0.67, named)], "lead", 0.45, 0.1) is named
    assert pick_assignment([Scored(0.90, unread), Scored(0.67, named)], "lead", 0.45, 0.1) is unread
    assert pick_assignment([Scored(0.71, unread)], "lead", 0.45, 0.1) is unread


def test_an_unread_lead_is_blamed_on_ocr_only_in_an_ocr_plan():
    unread = _task(lead=())
    assert "bản OCR" in describe_assignment(unread, 80, ocr=True)
    clean = describe_assignment(unread, 80, ocr=False)
    assert "OCR" not in clean and "Cơ quan chủ trì: văn bản không nêu rõ." in clean


def test_prints_asked_fact():
    assert prints_asked_fact(_task(deadline="2026"), "deadline") and not prints_asked_fact(_task(), "deadline")
    assert prints_asked_fact(_task(coordinating=("Sở Y tế",)), "coordination")
    assert not prints_asked_fact(_task(), "coordination") and prints_asked_fact(_task(), "lead")
    assert not prints_asked_fact(_task(lead=()), "lead")
    assert prints_asked_fact(_task(task="Phối hợp chỉ đạo thực hiện kế hoạch"), "coordination")
