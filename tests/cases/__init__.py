"""Per-provider test cases for the provider-parametrized suites (tests/test_providers.py).

Each provider has one module here declaring a ``CASES`` object: arguments for every one of its tools that work
on its simulator's seed data, and where to inject faults. The suites run every case; a provider is tested by
adding its module to ``PROVIDER_CASES``, never by copying tests.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

Args = dict[str, Any]


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


PROVIDER_CASES = ("lytics", "owlmetry", "wiserows", "arroyo", "strait")


def load(provider: str) -> Cases:
    cases: Cases = importlib.import_module(f"cases.{provider}").CASES
    return cases


def all_cases() -> list[Cases]:
    return [load(p) for p in PROVIDER_CASES]
