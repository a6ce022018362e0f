"""SQLite state of the Lytics simulator: jobs, logs and the read-only catalogue (workflows, auths, ...).

One connection (``check_same_thread=False``) behind one lock, so the app may be called from any thread or event
loop. Nothing happens at construction: the database is opened and seeded on first use, and a job marked lazy
(the 10k-entry Facebook export) gets its log rows only when a request first needs them. With a file path the
state survives restarts; timestamps stay relative to the moment the file was first seeded.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobs_mcp.providers.lytics.simulator.seed import SEED, Entry, build_account

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog (kind TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, doc TEXT NOT NULL, work TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS logs (seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, ts TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_by_job ON logs (job_id, ts);
CREATE TABLE IF NOT EXISTS pending_logs (job_id TEXT PRIMARY KEY);
"""


@dataclass
class JobRecord:
    doc: dict[str, Any]  # the public job object
    work: dict[str, Any]  # state, last_run, sleep_until, and "settle": the status the next read shows

    @property
    def id(self) -> str:
        return str(self.doc["id"])


class Store:
    def __init__(self, path: str | None, now: Callable[[], datetime], seed: int = SEED) -> None:
        self._path = path or ":memory:"
        self._now = now
        self._seed = seed
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    # --- opening and seeding --------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            conn.executescript(SCHEMA)
            if conn.execute("SELECT 1 FROM meta WHERE key = 'seeded_at'").fetchone() is None:
                self._seed_into(conn)
            self._conn = conn
        return self._conn

    def _seed_into(self, conn: sqlite3.Connection) -> None:
        now = self._now()
        account = build_account(now, self._seed)
        with _transaction(conn):
            conn.execute("INSERT INTO meta VALUES ('seeded_at', ?)", (now.isoformat(),))
            for kind, value in (
                ("workflows", account.workflows),
                ("auths", account.auths),
                ("streams", account.streams),
                ("fields", account.fields),
                ("quota", account.quota),
            ):
                conn.execute("INSERT INTO catalog VALUES (?, ?)", (kind, json.dumps(value)))
            for job in account.jobs:
                conn.execute(
                    "INSERT INTO jobs (id, doc, work) VALUES (?, ?, ?)",
                    (job.doc["id"], json.dumps(job.doc), json.dumps(job.work)),
                )
                if job.lazy:
                    conn.execute("INSERT INTO pending_logs VALUES (?)", (job.doc["id"],))
                else:
                    _insert_rows(conn, job.rows())

    def _ensure_logs(self, conn: sqlite3.Connection, job_ids: Iterable[str] | None = None) -> None:
        """Insert the log rows of lazy jobs (all of them, or those among ``job_ids``) not inserted yet."""
        pending = {row[0] for row in conn.execute("SELECT job_id FROM pending_logs")}
        wanted = pending if job_ids is None else pending & set(job_ids)
        if not wanted:
            return
        seeded_at = datetime.fromisoformat(conn.execute("SELECT value FROM meta WHERE key = 'seeded_at'").fetchone()[0])
        account = build_account(seeded_at, self._seed)
        with _transaction(conn):
            for job_id in sorted(wanted):
                _insert_rows(conn, account.job(job_id).rows())
                conn.execute("DELETE FROM pending_logs WHERE job_id = ?", (job_id,))

    # --- reads and writes ---------------------------------------------------------------------------------

    def catalog(self, kind: str) -> Any:
        with self._lock:
            row = self._db().execute("SELECT doc FROM catalog WHERE kind = ?", (kind,)).fetchone()
        return json.loads(row[0]) if row else None

    def jobs(self) -> list[JobRecord]:
        with self._lock:
            rows = self._db().execute("SELECT doc, work FROM jobs ORDER BY seq").fetchall()
            return [self._settled(JobRecord(json.loads(d), json.loads(w))) for d, w in rows]

    def job(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._db().execute("SELECT doc, work FROM jobs WHERE id = ?", (job_id.lower(),)).fetchone()
            return self._settled(JobRecord(json.loads(row[0]), json.loads(row[1]))) if row else None

    def _settled(self, record: JobRecord) -> JobRecord:
        """A status set to show once (a new job's ``initializing``) moves on to its next status when read; a
        cycling live job is running or sleeping by the clock, as a real job between its runs."""
        settle = record.work.pop("settle", None)
        if settle:
            record.doc["status"] = settle
            self.save(record)
        cycle = record.work.get("cycle")
        if cycle and record.doc.get("status") in ("running", "sleeping"):
            awake = int(self._now().timestamp() // cycle) % 2 == 0
            record.doc["status"] = "running" if awake else "sleeping"
        return record

    def save(self, record: JobRecord) -> None:
        with self._lock:
            self._db().execute(
                "INSERT INTO jobs (id, doc, work) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, work = excluded.work",
                (record.id, json.dumps(record.doc), json.dumps(record.work)),
            )

    def add_log(self, entry: Entry) -> None:
        with self._lock:
            _insert_rows(self._db(), [(entry["job_id"], entry["timestamp"], json.dumps(entry))])

    def job_logs(self, job_id: str) -> list[str]:
        """The job's log entries (encoded JSON), oldest first."""
        with self._lock:
            conn = self._db()
            self._ensure_logs(conn, [job_id])
            rows = conn.execute("SELECT doc FROM logs WHERE job_id = ? ORDER BY ts, seq", (job_id,)).fetchall()
        return [row[0] for row in rows]

    def logs_since(self, since: str, exclude: set[str]) -> list[str]:
        """Every job's entries at or after ``since`` (RFC 3339), oldest first, leaving out the ``exclude`` jobs."""
        with self._lock:
            conn = self._db()
            self._ensure_logs(conn)
            rows = conn.execute("SELECT job_id, doc FROM logs WHERE ts >= ? ORDER BY ts, seq", (since,)).fetchall()
        return [doc for job_id, doc in rows if job_id not in exclude]

    def count_logs(self, job_id: str | None = None) -> int:
        """Log rows stored so far (tests use it to see the lazy log is not inserted before it is needed)."""
        with self._lock:
            where, args = ("WHERE job_id = ?", (job_id,)) if job_id else ("", ())
            return int(self._db().execute(f"SELECT count(*) FROM logs {where}", args).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _insert_rows(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str]]) -> None:
    conn.executemany("INSERT INTO logs (job_id, ts, doc) VALUES (?, ?, ?)", rows)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN ... COMMIT (ROLLBACK on error) on an autocommit connection."""
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
