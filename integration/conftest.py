"""pytest fixtures for the integration scenarios (see harness.py). A failed test keeps
its run directory (configs, data, logs) and names it in the report; TEP_KEEP_RUN=1
keeps every one."""

import os

import pytest

from harness import Platform


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item.tep_failed = True


@pytest.fixture
def platform_factory(request):
    """Makes platforms with settings (tepenv.DEFAULTS keys); each is started, and on
    teardown stopped with SIGTERM, asserting every daemon exits 0."""
    made = []

    def make(**settings):
        p = Platform(**settings)
        try:
            p.start()
        except BaseException:
            p.cleanup(keep=True)  # kills what did start; the error names the daemon
            raise
        made.append(p)
        return p

    yield make
    try:
        for p in made:
            p.assert_clean_stop()
    finally:
        keep = getattr(request.node, "tep_failed", False) or bool(os.environ.get("TEP_KEEP_RUN"))
        for p in made:
            p.cleanup(keep=keep)


@pytest.fixture
def platform(platform_factory):
    """The three daemons with default settings on free ports."""
    return platform_factory()
