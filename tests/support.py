"""Shared pieces of the integration tests: an in-process sandbox, ports, subprocesses, the Node tools."""

from __future__ import annotations

import functools
import importlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import anyio
import anyio.lowlevel
import httpx
import pytest
from mcp import Client

from jobs_mcp import registry
from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.http import RetryPolicy
from jobs_mcp.runtime import Runtime
from jobs_mcp.sandbox import FaultInjector

CANARY = "canary-tok-3f9d2a71c4e8b6"  # a token that must never show up anywhere
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # where the simulators' clock starts in tests
FAST = RetryPolicy(retry_after_cap=0.01, backoff=0.001)
BIN = Path(sys.executable).with_name("jobs-mcp")
NODE_DIR = Path(__file__).parent / "node"  # the official TypeScript client, the Inspector and a Node 22 (npm ci)
NODE_BIN = NODE_DIR / "node_modules" / ".bin"
MIN_NODE = 20  # what tests/node/package-lock.json's packages need


def missing(reason: str) -> NoReturn:
    """A tool a test needs is not installed: skip the test, but fail it under CI (``CI`` set), where .ci/run
    installs everything and a skip would hide a broken set-up."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason} (CI is set: .ci/run must install it)", pytrace=False)
    pytest.skip(reason)


def needs_module(name: str, install: str) -> ModuleType:
    """An optional Python package a test needs (e.g. ``redis``), imported; else the test is skipped (failed
    under CI) saying how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"the Python package {name!r} is not installed ({install})")


def needs_executable(name: str, install: str, *, path: str | None = None) -> str:
    """A program a test runs (e.g. ``redis-server``, Debian's ``chromium``): its path; else the test is skipped
    (failed under CI) saying how to install it. ``path`` pins where it must be instead of searching PATH."""
    found = (path if Path(path).is_file() else None) if path is not None else shutil.which(name)
    if found is None:
        missing(f"{path or name} is not installed ({install})")
    return found


def needs_redis() -> str:
    """Both halves of a real Redis: the ``redis`` package the server talks through and a ``redis-server`` to run."""
    needs_module("redis", "pip install -e '.[redis]'")
    return needs_executable("redis-server", "Debian: apt-get install redis-server")


def node_major(node: str) -> int:
    """The major version of a Node executable; 0 when it does not run."""
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    found = re.match(r"v(\d+)\.", out.strip())
    return int(found.group(1)) if found else 0


@functools.cache
def _node() -> str | None:
    for candidate in (NODE_BIN / "node", shutil.which("node")):  # tests/node's own Node 22 first, then PATH's
        if candidate is not None and node_major(str(candidate)) >= MIN_NODE:
            return str(candidate)
    return None


def node() -> str:
    """A Node >= 20 and tests/node's packages for a test that runs them; else the test is skipped (failed
    under CI) saying what to install."""
    if not (NODE_DIR / "node_modules").is_dir():
        missing(f"{NODE_DIR / 'node_modules'} is missing: run `npm ci --prefix tests/node` (needs Node {MIN_NODE}+)")
    found = _node()
    if found is None:
        missing(f"no Node {MIN_NODE} or newer (`node --version`): install it, then `npm ci --prefix tests/node`")
    return found


class Sandbox:
    """A provider's in-process simulator plus a server wired to it, with the fault injector at hand."""

    def __init__(
        self,
        *,
        provider: str = "lytics",
        tokens: set[str] | None = None,
        timeout: float = 30.0,
        read_only: bool = False,
        confirm: str = "auto",
        allow_high_risk_ids: bool = False,
        approval_page: str = "auto",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.provider = registry.provider(provider)
        self.faults = FaultInjector()
        granted = {token: {"*"} for token in tokens} if tokens is not None else None
        self.app = self.provider.simulator(tokens=granted, faults=self.faults, now=now)
        self.dir = Path(tempfile.mkdtemp(prefix="sandbox-", dir=_sandboxes()))
        audit = self.dir / "audit.db"
        self.settings = Settings(
            accounts=(sandbox_account(provider),),
            timeout=timeout,
            read_only=read_only,
            confirm=confirm,  # type: ignore[arg-type]
            allow_high_risk_ids=allow_high_risk_ids,
            approval_page=approval_page,  # type: ignore[arg-type]
            audit_db=str(audit),
        )
        # A hand-moved Clock drives the server too: a wait's polls move it instead of sleeping.
        follow = {"clock": now, "sleep": now.sleep} if isinstance(now, Clock) else {}
        self.runtime = Runtime(self.settings, policy=FAST, sandbox_apps={provider: self.app}, **follow)
        self.server = build_server(self.settings, self.runtime)

    def hits(self, method: str | None = None, path_glob: str | None = None) -> int:
        return self.faults.hits(method=method, path_glob=path_glob)


_SANDBOXES: list[Path] = []  # where Sandbox() puts its audit log and gate state: a folder of this session's


def _sandboxes() -> Path:
    if not _SANDBOXES:
        raise RuntimeError("Sandbox() is made inside a pytest session only (its files live in the session's tmp)")
    return _SANDBOXES[-1]


@pytest.fixture(autouse=True, scope="session")
def _sandbox_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every Sandbox()'s files go under pytest's own temporary folder, which pytest removes."""
    _SANDBOXES.append(tmp_path_factory.mktemp("sandboxes", numbered=False))
    yield
    _SANDBOXES.pop()


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[Client]:
    async with Client(sandbox.server) as c:
        yield c


class Clock:
    """A clock a test moves by hand (simulators take ``now=``)."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        self.now += timedelta(seconds=seconds, **delta)

    async def sleep(self, seconds: float) -> None:
        """What a server on this clock does instead of sleeping: the time passes at once (other tasks still run)."""
        self.advance(seconds)
        await anyio.lowlevel.checkpoint()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def faults() -> FaultInjector:
    return FaultInjector()


def text_of(result: Any) -> str:
    """All the text blocks of a tool result."""
    return "\n".join(getattr(block, "text", "") for block in result.content)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise TimeoutError(url)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LYTICS_", "JOBS_MCP_"))}
    env.update(extra)
    return env


@contextmanager
def http_process(args: list[str], probe: str, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess (stdout and stderr into ``log``, no stdin), waited for until ``probe`` answers, and
    ended afterwards; a server that exits early fails with the end of its log."""
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=child_env(**env), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        try:
            wait_http(probe, proc)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}: {log.read_text(errors='replace')[-2000:]}") from None
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def sandbox_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`jobs-mcp sandbox` as a real HTTP server accepting only the canary token; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("sandbox-http") / "sandbox.log"
    with http_process([str(BIN), "sandbox", "--port", str(port), "--token", CANARY], url + "/_sandbox/hits", log):
        yield url


PASSPHRASE = "correct horse battery staple"  # the approver passphrase the tests enroll


def enroll_passphrase(path: Path, person: str = "local", passphrase: str = PASSPHRASE) -> None:
    """Enroll an approver with a passphrase in the approvers file at ``path`` (as `jobs-mcp approver passphrase`
    would; that command itself is tested through a terminal in test_person_proof)."""
    from jobs_mcp.approvers import ApproverFile

    file = ApproverFile(path)
    approver = file.get(person)
    approver.set_passphrase(passphrase)
    file.update(person, approver)
