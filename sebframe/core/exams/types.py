"""Exam types and states, and how the state follows from the course's start and end time."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class ExamType(StrEnum):
    """SEB Server's exam types; informational only (seed: "Exam Type")."""

    UNDEFINED = "UNDEFINED"
    MANAGED = "MANAGED"
    BYOD = "BYOD"
    VDI = "VDI"

    @property
    def label(self) -> str:
        return EXAM_TYPE_LABELS[self]


EXAM_TYPE_LABELS = {
    ExamType.UNDEFINED: "Not Defined",
    ExamType.MANAGED: "Managed Devices",
    ExamType.BYOD: "Bring Your Own Device",
    ExamType.VDI: "VDI (Virtual Desktop Infrastructure)",
}


class ExamStatus(StrEnum):
    UP_COMING = "UP_COMING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"

    @property
    def label(self) -> str:
        return EXAM_STATUS_LABELS[self]


EXAM_STATUS_LABELS = {
    ExamStatus.UP_COMING: "Up Coming",
    ExamStatus.RUNNING: "Running",
    ExamStatus.FINISHED: "Finished",
}


def status_at(start: datetime | None, end: datetime | None, now: datetime) -> ExamStatus:
    """UP_COMING before the start, FINISHED from the end on, RUNNING in between (no start: already started,
    no end: never ends)."""
    if end is not None and now >= end:
        return ExamStatus.FINISHED
    if start is not None and now < start:
        return ExamStatus.UP_COMING
    return ExamStatus.RUNNING


def exam_type_label(value: str) -> str:
    try:
        return ExamType(value).label
    except ValueError:
        return value


def exam_status_label(value: str) -> str:
    try:
        return ExamStatus(value).label
    except ValueError:
        return value
