"""Exams: import from an LMS, supporters, the attached exam configuration, monitoring indicators, exam
templates, the SEB restriction lifecycle and the refresh task.

``service.ExamService`` (``services.exams``) is the entry point; it holds the parts as attributes:
``indicators``, ``configuration``, ``restriction``, ``templates`` (also ``services.exams.templates``) and
``refresher``; ``user_dependencies()`` gives the user-deletion option that deletes a user's exams.
"""

from sebframe.core.exams.deletion import ExamDeletionReport
from sebframe.core.exams.service import EXAM_FILTERS, ExamDetails, ExamRow, ExamService, ImportPreview
from sebframe.core.exams.templates import EXAM_TEMPLATE_FILTERS, ExamTemplateService
from sebframe.core.exams.types import ExamStatus, ExamType, status_at

__all__ = [
    "EXAM_FILTERS",
    "EXAM_TEMPLATE_FILTERS",
    "ExamDeletionReport",
    "ExamDetails",
    "ExamRow",
    "ExamService",
    "ExamStatus",
    "ExamTemplateService",
    "ExamType",
    "ImportPreview",
    "status_at",
]
