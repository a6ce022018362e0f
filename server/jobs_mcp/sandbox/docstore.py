"""A small SQLite document store that every simulator can keep its state in.

Documents are JSON objects grouped by ``kind`` (``"job"``, ``"run"``, ``"log"``, ...), each with an id, kept in
insertion order. One connection (``check_same_thread=False``) behind one re-entrant lock, so handlers may call it
from any thread; ``transaction()`` groups several changes into one atomic step. Nothing happens at construction:
the database is opened on first use and ``seed(store)`` runs once, when the database has never been seeded (with a
file path, state survives restarts and is not seeded twice).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Doc = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    doc TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_by_parent ON docs (kind, parent, seq);
"""


class DocStore:
    def __init__(self, path: str | None = None, seed: Callable[[DocStore], None] | None = None) -> None:
        self._path = path or ":memory:"
        self._seed = seed
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._depth = 0

    def _db(self) -> sqlite3.Connection:
        with self._lock:
            if self._conn is None:
                conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
                conn.executescript(_SCHEMA)
                self._conn = conn
                if conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone() is None:
                    with self.transaction():
                        if self._seed is not None:
                            self._seed(self)
                        conn.execute("INSERT INTO meta (key, value) VALUES ('seeded', '1')")
            return self._conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic step (nested calls join the outer one)."""
        with self._lock:
            conn = self._db()
            self._depth += 1
            if self._depth == 1:
                conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                conn.execute("COMMIT")

    def put(self, kind: str, doc_id: str, doc: Doc, parent: str = "") -> None:
        """Insert or replace a document (a replaced document keeps its place in the order)."""
        blob = json.dumps(doc, separators=(",", ":"))
        with self._lock:
            self._db().execute(
                "INSERT INTO docs (kind, id, parent, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, parent = excluded.parent",
                (kind, doc_id, parent, blob),
            )

    def put_many(self, kind: str, rows: list[tuple[str, str, Doc]]) -> None:
        """Insert many ``(id, parent, doc)`` rows at once (seeding long logs)."""
        with self._lock:
            self._db().executemany(
                "INSERT OR REPLACE INTO docs (kind, id, parent, doc) VALUES (?, ?, ?, ?)",
                [(kind, i, p, json.dumps(d, separators=(",", ":"))) for i, p, d in rows],
            )

    def get(self, kind: str, doc_id: str) -> Doc | None:
        with self._lock:
            row = self._db().execute("SELECT doc FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, kind: str, parent: str | None = None) -> list[Doc]:
        """Every document of a kind (only the children of ``parent`` when given), oldest first."""
        sql, args = "SELECT doc FROM docs WHERE kind = ?", [kind]
        if parent is not None:
            sql, args = sql + " AND parent = ?", [*args, parent]
        with self._lock:
            rows = self._db().execute(sql + " ORDER BY seq", args).fetchall()
        return [json.loads(r[0]) for r in rows]

    def delete(self, kind: str, doc_id: str) -> bool:
        with self._lock:
            cur = self._db().execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, doc_id))
        return cur.rowcount > 0

    def meta(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db().execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
