"""Answer composers, tried in a declared order: each ``compose(ctx) -> Answer | None`` answers the question
(or refuses it, when it knows the plans cannot hold the fact) or returns None to let the next one try.

Order: meta (number, date, signer), person (signature titles), agency tasks ("Sở X chủ trì những nhiệm vụ
nào"), assignment (lead/coordination/deadline of a task, one per plan when plans are compared), target
(indicator values), cross-plan (one passage per named plan), passage (always answers or refuses)."""

from __future__ import annotations

from collections.abc import Callable

from retriever.answer import Answer
from retriever.composers import agency_tasks, assignment, cross_plan, meta, passage, person, target
from retriever.context import AskContext

Composer = Callable[[AskContext], Answer | None]

COMPOSERS: tuple[tuple[str, Composer], ...] = (
    ("meta", meta.compose),
    ("person", person.compose),
    ("agency_tasks", agency_tasks.compose),
    ("assignment", assignment.compose),
    ("target", target.compose),
    ("cross_plan", cross_plan.compose),
    ("passage", passage.compose),
)


def compose(ctx: AskContext, composers: tuple[tuple[str, Composer], ...] = COMPOSERS) -> Answer:
    """The first answer a composer gives; the passage composer always gives one."""
    for _, composer in composers:
        answer = composer(ctx)
        if answer is not None:
            return answer
    return ctx.abstain("không có câu nào trả lời đúng loại thông tin được hỏi")
