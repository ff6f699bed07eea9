"""The instructor's fixtures (the grading sandbox, headless Chromium) and the report printed at
the end of the run (a plugin that ``conftest.py`` registers; the students' copy of the tests has
no grader and no such file)."""

import os

import pytest

STRICT = os.environ.get("RNN_COURSE_STRICT") == "1"
_REPORT = []


@pytest.fixture(scope="session")
def sandbox_flag():
    """``[]`` when bubblewrap works here; otherwise ``["--no-sandbox"]`` (CI, strict: a failure)."""
    from rnngrade import sandbox

    try:
        sandbox.check_available()
        return []
    except sandbox.SandboxUnavailable as exc:
        if STRICT:
            pytest.fail(f"RNN_COURSE_STRICT=1 but the grading sandbox is unavailable: {exc}")
        return ["--no-sandbox"]


@pytest.fixture(scope="module")
def chromium_browser():
    """Headless Chromium, Playwright's ``Browser`` (``tests/browser.py``), for one test module.
    Where it cannot run, the tests that use it skip with the reason, or fail under
    ``RNN_COURSE_STRICT=1`` (CI)."""
    import browser

    reason = browser.unavailable()
    if reason is not None:
        if STRICT:
            pytest.fail(f"RNN_COURSE_STRICT=1 but the browser tests cannot run: {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def grading_report():
    """Lines for the report printed at the end of the run (grading times, attacks tried)."""
    return _REPORT


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("grading report")
        for line in _REPORT:
            terminalreporter.write_line(line)
