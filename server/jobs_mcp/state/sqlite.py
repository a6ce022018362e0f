"""The default store for a local server: one SQLite file beside the audit log.

It outlives the process, so a one-shot client (a CLI call, a restarted desktop app) can confirm what an
earlier process proposed, and two processes on one file agree: every write runs in ``BEGIN IMMEDIATE`` (one
writer at a time across processes, others wait up to ``busy_timeout``), and ``take`` deletes the row and marks
the nonce spent in that one transaction, so exactly one taker gets the record. WAL lets readers run beside
the writer. Calls are tiny but may wait on another process's lock, so they run in a worker thread, one at a
time on the single connection. Expired rows are purged on writes; reads simply ignore them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from jobs_mcp.state import SPENT_GRACE, Clock, Record, StateUnavailable, window_of

T = TypeVar("T")

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    nonce TEXT PRIMARY KEY,
    expires REAL NOT NULL,
    principal TEXT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_expires ON pending (expires);
CREATE TABLE IF NOT EXISTS spent (nonce TEXT PRIMARY KEY, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, expires REAL NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS spent_until ON spent (until);
CREATE TABLE IF NOT EXISTS hits (
    key TEXT NOT NULL,
    span REAL NOT NULL,
    ends REAL NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, span)
);
"""
PRINCIPAL_INDEX = "CREATE INDEX IF NOT EXISTS pending_principal ON pending (principal, expires)"
"""A person's pending list is read through this index: it costs what they have, not what everyone has."""


class SqliteStore:
    """Pending proposals, spent nonces and rate counters in one SQLite file (created 0600)."""

    def __init__(self, path: Path, *, clock: Clock = time.time, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()  # one connection: one statement sequence at a time
        self._conn = self._guard(self._connect)

    # --- plumbing ----------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():  # pending requests are nobody else's business; -wal/-shm inherit the mode
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )  # isolation_level=None: no implicit transactions; the ones below are explicit
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            with _write(conn):
                if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    _create(conn)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute(PRINCIPAL_INDEX)  # a file made before the index gets it on open
        except BaseException:
            conn.close()
            raise
        return conn

    def _guard(self, fn: Callable[[], T]) -> T:
        with self._lock:
            try:
                return fn()
            except (sqlite3.Error, OSError) as exc:
                raise StateUnavailable(
                    f"The gate's state file {self.path} cannot be used ({exc}). Check that the file and its folder "
                    "are writable, the disk is not full and no other program holds it locked, or choose another "
                    "place with --state."
                ) from exc

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self._guard, lambda: fn(self._conn))

    # --- the contract ------------------------------------------------------------------------------------

    async def put(self, nonce: str, record: Record, expires: float) -> None:
        blob = json.dumps(record)
        principal = record.get("principal")
        principal = principal if isinstance(principal, str) else None
        now = self._clock()

        def put(conn: sqlite3.Connection) -> None:
            with _write(conn):
                conn.execute("DELETE FROM pending WHERE expires <= ?", (now,))
                conn.execute("DELETE FROM spent WHERE until <= ?", (now,))
                conn.execute(
                    "INSERT OR REPLACE INTO pending (nonce, expires, principal, record) VALUES (?, ?, ?, ?)",
                    (nonce, expires, principal, blob),
                )

        await self._run(put)

    async def get(self, nonce: str) -> Record | None:
        now = self._clock()
        rows = await self._run(
            lambda c: c.execute("SELECT record FROM pending WHERE nonce = ? AND expires > ?", (nonce, now)).fetchall()
        )
        return _load(rows[0][0]) if rows else None

    async def take(self, nonce: str) -> Record | None:
        now = self._clock()

        def take(conn: sqlite3.Connection) -> str | None:
            with _write(conn):
                rows = conn.execute(
                    "DELETE FROM pending WHERE nonce = ? RETURNING expires, record", (nonce,)
                ).fetchall()
                if not rows or rows[0][0] <= now:
                    return None
                conn.execute(
                    "INSERT OR REPLACE INTO spent (nonce, until) VALUES (?, ?)", (nonce, rows[0][0] + SPENT_GRACE)
                )
                blob: str = rows[0][1]
                return blob

        blob = await self._run(take)
        return _load(blob) if blob is not None else None

    async def was_spent(self, nonce: str) -> bool:
        now = self._clock()
        rows = await self._run(
            lambda c: c.execute("SELECT 1 FROM spent WHERE nonce = ? AND until > ?", (nonce, now)).fetchall()
        )
        return bool(rows)

    async def all(self, principal: str | None = None) -> list[Record]:
        now = self._clock()
        args: list[str | float]
        if principal is None:
            query, args = "SELECT record FROM pending WHERE expires > ? ORDER BY expires", [now]
        else:  # two columns of pending_principal: no other principal's row is read
            query = "SELECT record FROM pending WHERE principal = ? AND expires > ? ORDER BY expires"
            args = [principal, now]
        rows = await self._run(lambda c: c.execute(query, args).fetchall())
        return [_load(row[0]) for row in rows]

    async def hit(self, key: str, window_seconds: float) -> int:
        now = self._clock()
        _, ends = window_of(now, window_seconds)

        def hit(conn: sqlite3.Connection) -> int:
            with _write(conn):
                conn.execute("DELETE FROM hits WHERE ends <= ?", (now,))
                rows = conn.execute(
                    "INSERT INTO hits (key, span, ends, count) VALUES (?, ?, ?, 1) "
                    "ON CONFLICT (key, span) DO UPDATE SET "
                    "count = CASE WHEN hits.ends = excluded.ends THEN hits.count + 1 ELSE 1 END, ends = excluded.ends "
                    "RETURNING count",
                    (key, window_seconds, ends),
                ).fetchall()
                count: int = rows[0][0]
                return count

        return await self._run(hit)

    async def put_task(self, task_id: str, doc: Record, expires: float) -> None:
        blob = json.dumps(doc)
        now = self._clock()

        def put(conn: sqlite3.Connection) -> None:
            with _write(conn):
                conn.execute("DELETE FROM tasks WHERE expires <= ?", (now,))
                conn.execute(
                    "INSERT OR REPLACE INTO tasks (id, expires, doc) VALUES (?, ?, ?)", (task_id, expires, blob)
                )

        await self._run(put)

    async def get_task(self, task_id: str) -> Record | None:
        now = self._clock()
        rows = await self._run(
            lambda c: c.execute("SELECT doc FROM tasks WHERE id = ? AND expires > ?", (task_id, now)).fetchall()
        )
        return _load(rows[0][0]) if rows else None

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1 FROM pending LIMIT 1").fetchall())

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self._guard, self._conn.close)

    def describe(self) -> str:
        return f"sqlite {self.path}"


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction holding the file's write lock from the start (no upgrade deadlocks)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _create(conn: sqlite3.Connection) -> None:
    # executescript would COMMIT the open transaction first, so the statements run one by one inside it
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def _load(blob: str) -> Record:
    record: Record = json.loads(blob)
    return record
