from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import `support`

pytest_plugins = ["support"]  # the shared fixtures: sandbox, client, sandbox_http


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
