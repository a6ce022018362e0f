"""Where the confirmation gate keeps what must outlive one call: pending proposals, spent ids, rate counters.

Three backends share one contract (``StateStore``): memory (tests, one process), SQLite (the default for a
local server: kept beside the audit log, it survives restarts and lets a one-shot client confirm what an
earlier process proposed) and Redis (``--state redis://…``: shared by replicas). ``take`` is the heart of it:
it removes a pending record and marks its nonce spent in one atomic step, so of any number of confirmations
racing for one id exactly one wins, on any backend, across processes.

Backends are imported only when chosen, so redis-py is needed only when a Redis URL is given.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from mcp.server.mcpserver.exceptions import ToolError

Record = dict[str, Any]
"""A pending proposal: plain JSON-able data, so every backend stores the same thing."""

SPENT_GRACE = 3600.0
"""Seconds a spent mark outlives the proposal's expiry, so a late replay is named as a replay."""

Clock = Callable[[], float]


class StateUnavailable(ToolError):
    """The state backend cannot be reached; the message says what is down and what to do about it (a ToolError,
    so the model reads it: nothing was sent, and what to try)."""


class KeyFileError(Exception):
    """The gate's key file cannot be used safely; the message says how to fix it."""


class StateStore(Protocol):
    """Pending proposals keyed by nonce, the nonces already spent, and fixed-window counters."""

    async def put(self, nonce: str, record: Record, expires: float) -> None:
        """Keep ``record`` pending until ``expires`` (epoch seconds)."""
        ...

    async def get(self, nonce: str) -> Record | None:
        """The pending, unexpired record, or None."""
        ...

    async def take(self, nonce: str) -> Record | None:
        """Atomically remove the pending record and mark the nonce spent; of N concurrent takes one gets it."""
        ...

    async def was_spent(self, nonce: str) -> bool:
        """Whether the nonce was taken (confirmed or cancelled) within its expiry plus ``SPENT_GRACE``."""
        ...

    async def all(self, principal: str | None = None) -> list[Record]:
        """Pending, unexpired records, soonest expiry first; only ``principal``'s when given."""
        ...

    async def hit(self, key: str, window_seconds: float) -> int:
        """Count one event for ``key`` in the current fixed window and return the window's count so far."""
        ...

    async def put_task(self, task_id: str, doc: Record, expires: float) -> None:
        """Keep (or replace) a followed run's task document until ``expires`` (MCP Tasks, tasks.py)."""
        ...

    async def get_task(self, task_id: str) -> Record | None:
        """The task document, or None when unknown or expired."""
        ...

    async def ping(self) -> None:
        """Raise ``StateUnavailable`` if the backend cannot be used right now (for /readyz)."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...

    def describe(self) -> str:
        """Where the state lives, for logs and health output (never a password)."""
        ...


def window_of(now: float, window_seconds: float) -> tuple[int, float]:
    """The fixed window ``now`` falls in: its index and the epoch second it ends."""
    if window_seconds <= 0:
        raise ValueError("window_seconds must be positive")
    index = int(now // window_seconds)
    return index, (index + 1) * window_seconds


def open_store(spec: str | None, *, default_dir: Path, clock: Clock = time.time) -> StateStore:
    """The store a ``--state`` value names.

    None or "" -> SQLite at ``default_dir/state.db``; ``memory``; ``sqlite://PATH`` (so ``sqlite:///abs/path``
    is absolute) or a plain path (a directory gets ``state.db`` inside) -> SQLite; ``redis://`` or
    ``rediss://host:port/db`` -> Redis. ``clock`` is for tests that move time by hand.
    """
    spec = (spec or "").strip()
    if not spec:
        from jobs_mcp.state.sqlite import SqliteStore

        return SqliteStore(default_dir / "state.db", clock=clock)
    if spec == "memory":
        from jobs_mcp.state.memory import MemoryStore

        return MemoryStore(clock=clock)
    if spec.startswith(("redis://", "rediss://")):
        try:
            from jobs_mcp.state.redis import RedisStore
        except ImportError as exc:
            raise StateUnavailable(
                f"--state {spec.split('://')[0]}://… needs redis-py, which is not installed ({exc}). "
                "Install it with: pip install 'jobs-mcp[redis]'"
            ) from None
        return RedisStore(spec, clock=clock)
    if spec.startswith("sqlite://"):
        path = Path(spec.removeprefix("sqlite://")).expanduser()
    elif "://" in spec:
        raise ValueError(
            f"Unknown state store {spec.split('://')[0]}://… Use 'memory', a file path, sqlite:///path/state.db, "
            "or redis://host:port/db."
        )
    else:
        path = Path(spec).expanduser()
        if path.is_dir():
            path = path / "state.db"
    from jobs_mcp.state.sqlite import SqliteStore

    return SqliteStore(path, clock=clock)


def load_or_create_key(path: Path) -> bytes:
    """The gate's HMAC key, kept in ``path``; made once (32 random bytes, hex) when the file does not exist.

    The file holds the key as text so the same value can be given to other replicas as JOBS_MCP_GATE_KEY,
    which yields the same bytes. Creation is atomic and race-free (a private temp file hard-linked into
    place), so two processes starting together end up with one key. A file readable or writable by group or
    others is refused rather than used. The key never appears in a message.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process made the key first: theirs is used
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as fh:
        mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"The gate key file {path} is accessible to other users (mode {mode:04o}), so it is not used: "
                f"anyone who reads it can forge confirmation ids. Run: chmod 600 {path}"
            )
        key = fh.read().strip()
    if len(key) < 32:
        raise KeyFileError(
            f"The gate key file {path} is too short to be a key (under 32 characters). Delete it to have a new "
            "one made (pending confirmation ids then stop working), or put the right key back."
        )
    return key
