"""SEB Server's internal Moodle quiz id ``quizId:courseId:shortname:idnumber`` (``MoodleUtils.getInternalQuizId``).

The course short name and id number are in the id so a quiz can be recognised after a Moodle backup and
restore changed its numeric ids. The ids are the same as SEB Server's, so exams imported there keep matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMPTY = "--"
MAX_SHORTNAME = 200
# Order matters: the same replacements, in the same order, as SEB Server.
_MASKS = ((";", "_SC_"), (":", "_COLON_"), ("/", "_SL_"), ("\\", "_BSL_"), ("&", "_AMP_"), ("<", "_AO_"),
          (">", "_AC_"))
_NUMBER = re.compile(r"\d+")


def mask_shortname(shortname: str) -> str:
    for plain, masked in _MASKS:
        shortname = shortname.replace(plain, masked)
    return shortname[:MAX_SHORTNAME]


def unmask_shortname(masked: str) -> str:
    for plain, mask in _MASKS:
        masked = masked.replace(mask, plain)
    return masked


def internal_quiz_id(quiz_id: int, course_id: int, shortname: str | None, idnumber: str | None) -> str:
    """``101:1:c1:i1``; a missing short name or id number is ``--``."""
    short = mask_shortname(shortname) if shortname and shortname.strip() else EMPTY
    number = idnumber if idnumber and idnumber.strip() else EMPTY
    return f"{quiz_id}:{course_id}:{short}:{number}"


@dataclass(frozen=True, slots=True)
class InternalQuizId:
    quiz_id: int  # the quiz id (MOODLE_PLUGIN) or course module id (MOODLE, as SEB Server stores it)
    course_id: int
    shortname: str | None
    idnumber: str | None


def parse_internal_quiz_id(value: str) -> InternalQuizId | None:
    """The parts of an internal id, or ``None`` if ``value`` does not start with two numbers."""
    parts = value.split(":")
    if len(parts) < 2 or not _NUMBER.fullmatch(parts[0]) or not _NUMBER.fullmatch(parts[1]):
        return None
    shortname = unmask_shortname(parts[2]) if len(parts) > 2 and parts[2] != EMPTY else None
    idnumber = ":".join(parts[3:]) if len(parts) > 3 else None  # id numbers are not masked and may hold ':'
    return InternalQuizId(int(parts[0]), int(parts[1]), shortname, None if idnumber == EMPTY else idnumber)
