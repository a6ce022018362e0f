"""Per-provider test cases for the provider-parametrized suites (tests/test_providers.py).

Each provider has one module here declaring a ``CASES`` object: arguments for every one of its tools that work
on its simulator's seed data, and where to inject faults. The suites run every case; a provider is tested by
adding its module here, never by copying tests. Which providers there are is read from ``jobs_mcp.registry``
(the one list): a registered provider without a module here fails the suites, naming the file to write.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs_mcp import registry

Args = dict[str, Any]


@dataclass(frozen=True)
class Follow:
    """A provider's wait tool and runs of its seed data to follow (tests/test_waits.py)."""

    tool: str
    ended: Args  # a run already over (a failure): answered on the first read
    ends: Args  # a run that ends after some polls (within a few calls), as ...
    ends_as: str  # ... this status
    stays: Args  # a run still going when every call's time is up
    route: str  # path glob of what a poll reads (to count reads)
    after: tuple[str, ...] = ()  # writes whose executed answer names this wait (a trigger, a start)


@dataclass(frozen=True)
class Cases:
    provider: str
    reads: dict[str, Args]  # every read tool -> arguments that work on a fresh simulator
    writes: dict[str, Args]  # every write / lifecycle tool -> arguments whose proposal applies on a fresh simulator
    not_found: dict[str, Args]  # tool -> arguments naming something that does not exist (at least one)
    list_route: tuple[str, str]  # (method, path glob) of the route behind reads["<prefix>list_…"], for faults
    list_tool: str  # the read that lists the main objects (checked for a table)
    extra_reads: list[tuple[str, Args]] = field(default_factory=list)  # further argument sets worth checking
    # reads whose log is streamed: (tool, arguments, path glob of the log's route); each answer must hold >1 entry
    streamed_logs: list[tuple[str, Args, str]] = field(default_factory=list)
    follow: Follow | None = None  # the wait tool, for providers whose runs or jobs end


def provider_names() -> tuple[str, ...]:
    """Every registered provider (registry.py), so the suites cover a new platform as soon as it is registered."""
    return registry.names()


def load(provider: str) -> Cases:
    try:
        module = importlib.import_module(f"cases.{provider}")
    except ModuleNotFoundError as exc:
        if exc.name != f"cases.{provider}":
            raise
        where = Path(__file__).with_name(f"{provider}.py")
        raise LookupError(
            f"provider {provider!r} is registered but has no test cases: write {where} (CASES = Cases(...); see "
            "server/jobs_mcp/providers/README.md)"
        ) from None
    cases: Cases = module.CASES
    if cases.provider != provider:
        raise LookupError(f"{module.__file__} declares cases for {cases.provider!r}, not {provider!r}")
    return cases


def all_cases() -> list[Cases]:
    return [load(p) for p in provider_names()]
