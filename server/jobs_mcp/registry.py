"""The providers this server knows. Adding a platform is one line here (and its package under providers/).

A provider's package is imported only when it is enabled, so start-up does not grow with the platforms that exist.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs_mcp.operations import Provider

PROVIDERS: dict[str, str] = {
    "lytics": "jobs_mcp.providers.lytics",
    "arroyo": "jobs_mcp.providers.arroyo",
    "owlmetry": "jobs_mcp.providers.owlmetry",
    "wiserows": "jobs_mcp.providers.wiserows",
    "strait": "jobs_mcp.providers.strait",
}


def names() -> tuple[str, ...]:
    return tuple(PROVIDERS)


@cache
def provider(name: str) -> Provider:
    """The provider declared by ``PROVIDER`` in its package (imported on first use)."""
    module = importlib.import_module(PROVIDERS[name])
    declared: Provider = module.PROVIDER
    return declared
