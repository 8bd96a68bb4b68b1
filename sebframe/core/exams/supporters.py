"""Exam supporters: active user accounts of the exam's institution (SEB Server's "Exam Supporter" field)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.db.models import ExamSupporter, UserAccount
from sebframe.core.errors import ValidationFailed


async def check_supporters(session: AsyncSession, institution_id: int, ids: Sequence[int], *, required: bool,
                           field: str = "supporter_ids") -> list[UserAccount]:
    """The accounts for ``ids``, or ``ValidationFailed``: each must be an active user of the institution."""
    if required and not ids:
        raise ValidationFailed({field: "choose at least one exam supporter"})
    if not ids:
        return []
    found = {user.id: user for user in (await session.execute(
        select(UserAccount).where(UserAccount.id.in_(list(ids))))).scalars()}
    for user_id in ids:
        user = found.get(user_id)
        if user is None or user.institution_id != institution_id:
            raise ValidationFailed({field: f"user {user_id} is not a user of this institution"})
        if not user.active:
            raise ValidationFailed({field: f"user {user.username} is inactive and cannot support exams"})
    return [found[user_id] for user_id in ids]


async def usable_supporters(session: AsyncSession, institution_id: int, ids: Sequence[int]) -> list[int]:
    """The ids that are (still) active users of the institution, e.g. an exam template's supporters."""
    if not ids:
        return []
    rows = await session.execute(select(UserAccount.id).where(
        UserAccount.id.in_(list(ids)), UserAccount.institution_id == institution_id, UserAccount.active.is_(True)))
    usable = {row.id for row in rows}
    return [user_id for user_id in ids if user_id in usable]


async def supporters_of(session: AsyncSession, exam_id: int) -> list[UserAccount]:
    statement = (select(UserAccount).join(ExamSupporter, ExamSupporter.user_id == UserAccount.id)
                 .where(ExamSupporter.exam_id == exam_id).order_by(UserAccount.username))
    return list((await session.execute(statement)).scalars())


async def accounts(session: AsyncSession, ids: Sequence[int]) -> list[UserAccount]:
    if not ids:
        return []
    found = {user.id: user for user in (await session.execute(
        select(UserAccount).where(UserAccount.id.in_(list(ids))))).scalars()}
    return [found[user_id] for user_id in ids if user_id in found]


def display_name(user: UserAccount) -> str:
    return f"{user.name} {user.surname} ({user.username})"
