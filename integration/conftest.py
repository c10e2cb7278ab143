"""pytest fixtures for the integration scenarios (see harness.py)."""

import pytest

from harness import Platform


@pytest.fixture
def platform_factory():
    """Makes platforms with settings (tepenv.DEFAULTS keys); each is started, and on
    teardown stopped with SIGTERM, asserting every daemon exits 0."""
    made = []

    def make(**settings):
        p = Platform(**settings)
        try:
            p.start()
        except BaseException:
            p.cleanup()  # kills what did start; the error says which daemon failed
            raise
        made.append(p)
        return p

    yield make
    try:
        for p in made:
            p.assert_clean_stop()
    finally:
        for p in made:
            p.cleanup()


@pytest.fixture
def platform(platform_factory):
    """The three daemons with default settings on free ports."""
    return platform_factory()
