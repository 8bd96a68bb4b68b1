"""sebframe's LMS contract tests, run against the fake Open edX (fixtures in conftest.py)."""

from __future__ import annotations

from sebframe.testing.lms import LmsAdapterContract, RestrictionApiContract


class TestOpenEdxAdapterContract(LmsAdapterContract):
    pass


class TestOpenEdxRestrictionContract(RestrictionApiContract):
    pass
