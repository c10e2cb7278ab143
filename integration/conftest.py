"""pytest fixtures for the integration scenarios (see harness.py). A failed test keeps
its run directory (configs, data, logs) and names it in the report; TEP_KEEP_RUN=1
keeps every one."""

import os

import pytest

from harness import Platform
from onem2m_client import cse_session


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


def pytest_generate_tests(metafunc):
    """A module that sets CSE_AUTHZ_MODES (e.g. ["remote", "local"]) runs its tests once
    per decision mode of the cse fixture, the mode in the test id ("[remote]")."""
    modes = getattr(metafunc.module, "CSE_AUTHZ_MODES", None)
    if modes and "cse" in metafunc.fixturenames:
        metafunc.parametrize("cse", modes, indirect=True, scope="module")


@pytest.fixture(scope="module")
def cse(request):
    """One CseSession (onem2m_client.py: tep-enroller, tep-authz and tep-cse with default
    settings, an admin client, cse.ae() and cse.client()) shared by a module's tests; with
    CSE_AUTHZ_MODES, one per decision mode (authz_mode). A module that needs other
    settings defines its own fixture."""
    mode = getattr(request, "param", None)
    yield from cse_session(**({"authz_mode": mode} if mode else {}))


@pytest.fixture
def platform(platform_factory):
    """The three daemons with default settings on free ports."""
    return platform_factory()
