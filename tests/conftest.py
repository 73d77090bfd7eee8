"""Test configuration only: the hypothesis profiles and shared fixtures. Shared helpers live in tests/support/."""

import os

import pytest
from hypothesis import settings

settings.register_profile("chainrule", max_examples=30, deadline=None)
# CI runs the same examples every time, so a landing never hinges on a lucky draw;
# local runs keep exploring new ones.
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "chainrule")


@pytest.fixture
def linux_proc():
    """Fail (never skip) without Linux's /proc, which CI's Linux machines have."""
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.fail("this test reads Linux's /proc (/proc/self/clear_refs): run it on Linux")
