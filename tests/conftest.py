"""The test session runs in a home and a temporary folder of its own, and fails if anything writes outside them.

Before any test or subprocess starts, the controlling pytest process (the only one without xdist; the one that
starts the workers with it) points HOME, the XDG folders, npm's cache and TMPDIR into pytest's own temporary
folder, so that everything the tests start inherits them: a `jobs-mcp serve` without --audit-db, the Node clients,
Chromium. At the end it checks that the real home's jobs-mcp folders did not change, that no `jobs-mcp-*` entry
appeared in the system's temporary folder and that nothing was left in the session's TMPDIR: any of these is
reported as an error and fails the run. pytest removes its temporary folder after a passing run
(tmp_path_retention_policy in pyproject.toml).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import `support`

pytest_plugins = ["support"]  # the shared fixtures: sandbox, client, sandbox_http

PREFIX = "jobs-mcp-"  # how the server and the tests name temporary folders
SLOW_FIXTURES = {"sandbox_http", "redis_server", "simulator_over_http"}  # each starts a subprocess
WATCH = pytest.StashKey[dict[str, Any]]()


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``root``: relative path -> (size, modification time); empty when root is absent."""
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            try:
                info = Path(folder, name).lstat()
            except OSError:
                continue
            found[str(Path(folder, name).relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return found


def _jobs_mcp_folders(home: Path) -> list[Path]:
    """The person's own jobs-mcp state, configuration and cache folders (the XDG ones and the defaults)."""
    bases = {home / ".local" / "state", home / ".config", home / ".cache"}
    bases |= {Path(os.environ[k]) for k in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME") if os.environ.get(k)}
    return sorted(base / "jobs-mcp" for base in bases)


def _temp_entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith(PREFIX)}


@pytest.hookimpl(trylast=True)  # after pytest's tmpdir plugin has made config._tmp_path_factory
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller started it with the environment set below
    system_tmp = Path(tempfile.gettempdir())
    watched = _jobs_mcp_folders(Path.home())
    session = config._tmp_path_factory.mktemp("session", numbered=False)
    home, tmp = session / "home", session / "tmp"
    home.mkdir()
    tmp.mkdir()
    os.environ.update(
        HOME=str(home),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        npm_config_cache=str(home / ".npm"),
        TMPDIR=str(tmp),
        TIKTOKEN_CACHE_DIR="",  # no copy of the (offline, local) encodings in TMPDIR/data-gym-cache
    )
    tempfile.tempdir = None  # read TMPDIR again: this process's own temporary files go there too
    config.stash[WATCH] = {
        "watched": {folder: _listing(folder) for folder in watched},
        "system_tmp": system_tmp,
        "system_tmp_before": _temp_entries(system_tmp),
        "tmp": tmp,
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses a fixture starting a subprocess is slow, whether or not it says so itself."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def _leaks(watch: dict[str, Any]) -> list[str]:
    found = []
    for folder, before in watch["watched"].items():
        after = _listing(folder)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        if changed:
            found.append(f"the real {folder} changed: {', '.join(changed[:10])}")
    system_tmp: Path = watch["system_tmp"]
    new = sorted(_temp_entries(system_tmp) - watch["system_tmp_before"])
    if new:
        found.append(f"{len(new)} new in {system_tmp}: {', '.join(new[:10])}")
    left = sorted(p.name for p in watch["tmp"].iterdir())
    if left:
        found.append(f"{len(left)} left in the session's TMPDIR {watch['tmp']}: {', '.join(left[:10])}")
    return found


@pytest.hookimpl(tryfirst=True)  # before pytest removes its temporary folder
def pytest_sessionfinish(session: pytest.Session) -> None:
    watch = session.config.stash.get(WATCH, None)
    leaks = _leaks(watch) if watch is not None else []
    if not leaks:
        return
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:  # listed with the errors, and counted in the last line
        report = pytest.TestReport(
            nodeid="tests/conftest.py::written outside the tests' own folders",
            location=("tests/conftest.py", None, "written outside the tests' own folders"),
            keywords={},
            outcome="failed",
            longrepr="\n".join(leaks),
            when="teardown",
        )
        reporter.stats.setdefault("error", []).append(report)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
