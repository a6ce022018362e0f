"""Shared pieces of the integration tests: an in-process sandbox, ports, subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
        self.dir = Path(tempfile.mkdtemp(prefix="jobs-mcp-test-"))
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
        self.runtime = Runtime(self.settings, policy=FAST, sandbox_apps={provider: self.app})
        self.server = build_server(self.settings, self.runtime)

    def hits(self, method: str | None = None, path_glob: str | None = None) -> int:
        return self.faults.hits(method=method, path_glob=path_glob)


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


@pytest.fixture
def sandbox_http() -> Iterator[str]:
    """`jobs-mcp sandbox` as a real HTTP server accepting only the canary token; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN), "sandbox", "--port", str(port), "--token", CANARY],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/_sandbox/hits", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
