"""Append-only audit log of every executed write, in SQLite.

Each write leaves two rows: an ``intent`` written before the request is sent and an ``outcome`` after. A crash
in between leaves the intent alone, which ``jobs-mcp audit`` shows as "outcome unknown" rather than silence.
Two more kinds of row stand alone: a ``refusal`` (the gate would not send something: a stored proposal that
fails its signature, an action the log already has) and a ``decision`` that sent nothing (declined, cancelled,
or a target that moved). Rows hold the principal (who approved), the channel (asked through the client, the
approval page or a confirmation id), the account, tool, request (method, URL, body) and result; tokens never
reach this module. The log lives outside the state store, so it also answers what became of a used id.

Retention: with ``keep_days``, an executed write's two rows go once its intent is older than that (checked when
the log opens and every ``PRUNE_EVERY`` rows). An intent whose outcome is unknown is never dropped: it is the
one row that says a write may have landed unseen.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError

from jobs_mcp.textsafe import scrub

if TYPE_CHECKING:
    import sqlite3

PHASES = ("intent", "outcome", "refusal", "decision")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ({", ".join(f"'{p}'" for p in PHASES)})),
    action TEXT NOT NULL,
    account TEXT NOT NULL,
    tool TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT,
    principal TEXT NOT NULL DEFAULT 'local',
    channel TEXT NOT NULL DEFAULT 'id'
);
CREATE INDEX IF NOT EXISTS audit_action ON audit (action);
"""
PRUNE_EVERY = 1000
"""Rows appended between two retention passes."""
# Whole writes (intent and outcome) whose intent is older than the cut-off; an intent alone is kept.
PRUNE = """
DELETE FROM audit WHERE action IN (
    SELECT action FROM audit WHERE phase = 'intent' AND at < ?
    INTERSECT SELECT action FROM audit WHERE phase = 'outcome'
)
"""
# Refusals and decisions that sent nothing, older than the cut-off (by then their ids have long expired).
PRUNE_ALONE = "DELETE FROM audit WHERE phase IN ('refusal', 'decision') AND at < ?"
# Columns added after the first release; an older file gets them on open.
ADDED_COLUMNS = {
    "principal": "TEXT NOT NULL DEFAULT 'local'",
    "channel": "TEXT NOT NULL DEFAULT 'id'",
    "proof": "TEXT NOT NULL DEFAULT ''",  # how the person was proven: elicitation, passkey:…, passphrase, …
}


class AuditUnavailable(ToolError):
    """The audit log cannot take a row; the message says whether the write was sent, and what to fix (a ToolError,
    so the model and the person read the reason instead of "Error executing tool")."""


def default_audit_path() -> Path:
    """``$XDG_STATE_HOME/jobs-mcp/audit.db`` (``~/.local/state/jobs-mcp/audit.db`` by default)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "jobs-mcp" / "audit.db"


class AuditLog:
    def __init__(self, path: str | Path | None = None, *, keep_days: float | None = None) -> None:
        self.path = Path(path) if path is not None else default_audit_path()
        self.keep_days = keep_days
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._appended = 0

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            import sqlite3  # on the first write: start-up does not need it

            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.executescript(SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(audit)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE audit ADD COLUMN {column} {kind}")
            _widen_phases(self._db)
            self._prune(self._db)
        return self._db

    def _prune(self, db: sqlite3.Connection) -> int:
        """Drop whole writes older than ``keep_days`` (never an intent whose outcome is unknown); how many rows."""
        if self.keep_days is None:
            return 0
        cutoff = datetime.fromtimestamp(datetime.now(UTC).timestamp() - self.keep_days * 86400, UTC)
        at = cutoff.isoformat(timespec="milliseconds")
        return db.execute(PRUNE, (at,)).rowcount + db.execute(PRUNE_ALONE, (at,)).rowcount

    def _append(
        self,
        phase: str,
        action: str,
        account: str,
        tool: str,
        request: Any,
        result: Any,
        principal: str,
        channel: str,
        proof: str = "",
    ) -> None:
        row = (
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            phase,
            action,
            account,
            tool,
            scrub(json.dumps(request, sort_keys=True, default=str)),
            None if result is None else scrub(json.dumps(result, sort_keys=True, default=str)),
            principal,
            channel,
            proof,
        )
        import sqlite3

        try:
            with self._lock:
                db = self._conn()
                db.execute(
                    "INSERT INTO audit (at, phase, action, account, tool, request, result, principal, channel, proof) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                self._appended += 1
                if self._appended % PRUNE_EVERY == 0:
                    self._prune(db)
        except (sqlite3.Error, OSError) as exc:
            raise AuditUnavailable(self._unwritable(phase, result, exc)) from None

    def _unwritable(self, phase: str, result: Any, exc: Exception) -> str:
        fix = (
            f"the audit log {self.path} cannot be written ({exc}): check that the file and its folder are writable "
            "and the disk is not full, or point --audit-db elsewhere and restart."
        )
        if phase == "intent":
            return f"Nothing was sent: {fix} The proposal was used up; propose the action again once this is fixed."
        status = result.get("status", "unknown") if isinstance(result, dict) else "unknown"
        return (
            f"The request WAS sent (outcome: {status}); do not send it again. But {fix} Tell the person, so the "
            "record of this write is kept elsewhere."
        )

    def check_writable(self) -> None:
        """Open the log and write to it in a transaction that is rolled back (for start-up), or raise
        ``AuditUnavailable`` saying what to fix."""
        import sqlite3

        try:
            with self._lock:
                db = self._conn()
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.execute(
                        "INSERT INTO audit (at, phase, action, account, tool, request) VALUES ('', 'intent', "
                        "'', '', '', '')"
                    )
                finally:
                    db.execute("ROLLBACK")
        except (sqlite3.Error, OSError) as exc:
            self._db = None
            raise AuditUnavailable(
                f"the audit log {self.path} cannot be written ({exc}): check that the file and its folder are "
                "writable, or choose another file with --audit-db"
            ) from None

    def intent(
        self,
        action: str,
        account: str,
        tool: str,
        request: Any,
        *,
        principal: str = "local",
        channel: str = "id",
        proof: str = "",
    ) -> None:
        self._append("intent", action, account, tool, request, None, principal, channel, proof)

    def outcome(
        self,
        action: str,
        account: str,
        tool: str,
        request: Any,
        result: Any,
        *,
        principal: str = "local",
        channel: str = "id",
        proof: str = "",
    ) -> None:
        self._append("outcome", action, account, tool, request, result, principal, channel, proof)

    def refusal(
        self, action: str, account: str, tool: str, request: Any, reason: str, *, principal: str, channel: str
    ) -> None:
        """The gate refused to send something (``reason`` says why); nothing was sent."""
        result = {"status": "refused", "reason": reason}
        self._append("refusal", action, account, tool, request, result, principal, channel)

    def decision(
        self, action: str, account: str, tool: str, request: Any, status: str, *, principal: str, channel: str
    ) -> None:
        """A proposal was decided without sending anything: ``status`` is declined, cancelled or stale."""
        self._append("decision", action, account, tool, request, {"status": status}, principal, channel)

    def history(self, action: str) -> list[dict[str, Any]]:
        """Every row of one action, oldest first: phase, at, result, principal, channel. Read before a write is
        sent, so a log that cannot be used raises ``AuditUnavailable`` saying nothing was sent."""
        import sqlite3

        try:
            with self._lock:
                rows = (
                    self._conn()
                    .execute(
                        "SELECT phase, at, result, principal, channel FROM audit WHERE action = ? ORDER BY seq",
                        (action,),
                    )
                    .fetchall()
                )
        except (sqlite3.Error, OSError) as exc:
            raise AuditUnavailable(self._unwritable("intent", None, exc)) from None
        return [
            {
                "phase": phase,
                "at": at,
                "result": json.loads(result) if result is not None else None,
                "principal": principal,
                "channel": channel,
            }
            for phase, at, result, principal, channel in rows
        ]

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest records, newest first: each executed write with its outcome (None when unknown), and each
        refusal or decision that sent nothing, whose ``outcome`` says so (status refused, declined, ...)."""
        with self._lock:
            rows = (
                self._conn()
                .execute(
                    """SELECT i.at, i.phase, i.action, i.account, i.tool, i.request, COALESCE(o.result, i.result),
                          CASE WHEN i.phase = 'intent' THEN o.at ELSE i.at END, i.principal, i.channel, i.proof
                   FROM audit i LEFT JOIN audit o
                     ON i.phase = 'intent' AND o.action = i.action AND o.phase = 'outcome'
                   WHERE i.phase != 'outcome' ORDER BY i.seq DESC LIMIT ?""",
                    (limit,),
                )
                .fetchall()
            )
        return [
            {
                "at": at,
                "kind": "write" if phase == "intent" else phase,
                "action": action,
                "account": account,
                "tool": tool,
                "request": json.loads(request),
                "outcome": json.loads(result) if result is not None else None,
                "outcome_at": done_at,
                "principal": principal,
                "channel": channel,
                "proof": proof,
            }
            for at, phase, action, account, tool, request, result, done_at, principal, channel, proof in rows
        ]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _widen_phases(db: sqlite3.Connection) -> None:
    """An audit file made before a phase existed has a CHECK that refuses it; SQLite cannot alter a CHECK, so the
    table is rebuilt once with every row, column and sequence number kept (in one transaction: another process
    opening the file meanwhile waits, then finds it done)."""

    def current() -> str:
        row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit'").fetchone()
        return str(row[0])

    if all(f"'{phase}'" in current() for phase in PHASES):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if not all(f"'{phase}'" in current() for phase in PHASES):
            old = [(row[1], row[2]) for row in db.execute("PRAGMA table_info(audit)")]
            table = SCHEMA.split(";")[0].replace("CREATE TABLE IF NOT EXISTS audit", "CREATE TABLE audit_widened")
            db.execute(table)
            have = {row[1] for row in db.execute("PRAGMA table_info(audit_widened)")}
            for column, kind in old:  # a column this version does not know yet is kept as it is
                if column not in have:
                    db.execute(f"ALTER TABLE audit_widened ADD COLUMN {column} {kind}")
            columns = ", ".join(column for column, _ in old)
            db.execute(f"INSERT INTO audit_widened ({columns}) SELECT {columns} FROM audit")
            db.execute("DROP TABLE audit")
            db.execute("ALTER TABLE audit_widened RENAME TO audit")
            db.execute("CREATE INDEX IF NOT EXISTS audit_action ON audit (action)")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
