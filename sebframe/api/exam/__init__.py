"""The SEB client Exam API (``/exam-api/**``, ``/oauth/token``)."""

from sebframe.api.exam.app import ExamApi, is_exam_api_path

__all__ = ["ExamApi", "is_exam_api_path"]
