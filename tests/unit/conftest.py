"""Fixtures of the charm's unit tests (helpers live in tests/support/charm.py)."""

from __future__ import annotations

import pytest
from ops import testing

from charm import SungrowSimCharm


@pytest.fixture
def ctx() -> testing.Context[SungrowSimCharm]:
    return testing.Context(SungrowSimCharm)
