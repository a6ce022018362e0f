"""The in-process store: for tests and throwaway servers. Nothing survives the process.

Records go in and out as JSON text, like in the other backends, so a caller mutating a record it got back
changes nothing stored, and a record that is not plain JSON fails here too, not first in production.
``take`` has no await between looking and removing, so it is atomic on the event loop.
"""

from __future__ import annotations

import json
import time

from jobs_mcp.state import SPENT_GRACE, Clock, Record, window_of


class MemoryStore:
    """Pending proposals, spent nonces and counters in dicts, purged of expired entries as it goes."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._pending: dict[str, tuple[float, str]] = {}  # nonce -> (expires, record as JSON)
        self._spent: dict[str, float] = {}  # nonce -> remembered until
        self._hits: dict[tuple[str, float], tuple[float, int]] = {}  # (key, window) -> (window end, count)
        self._tasks: dict[str, tuple[float, str]] = {}  # task id -> (expires, document as JSON)
        self._by_principal: dict[str, set[str]] = {}  # principal -> its pending nonces (some maybe gone since)

    def _purge(self) -> float:
        now = self._clock()
        self._pending = {k: v for k, v in self._pending.items() if v[0] > now}
        self._spent = {k: v for k, v in self._spent.items() if v > now}
        return now

    async def put(self, nonce: str, record: Record, expires: float) -> None:
        blob = json.dumps(record)
        self._purge()
        self._pending[nonce] = (expires, blob)
        principal = record.get("principal")
        if isinstance(principal, str):
            mine = self._by_principal.setdefault(principal, set())
            mine.intersection_update(self._pending)  # forget what was taken or expired
            mine.add(nonce)

    async def get(self, nonce: str) -> Record | None:
        self._purge()
        entry = self._pending.get(nonce)
        return _load(entry[1]) if entry else None

    async def take(self, nonce: str) -> Record | None:
        self._purge()
        entry = self._pending.pop(nonce, None)
        if entry is None:
            return None
        self._spent[nonce] = entry[0] + SPENT_GRACE
        return _load(entry[1])

    async def was_spent(self, nonce: str) -> bool:
        self._purge()
        return nonce in self._spent

    async def all(self, principal: str | None = None) -> list[Record]:
        self._purge()
        if principal is None:
            entries = list(self._pending.values())
        else:  # the principal's own nonces only: no other record is decoded
            mine = self._by_principal.get(principal, set())
            entries = [entry for nonce in mine if (entry := self._pending.get(nonce)) is not None]
        return [_load(blob) for _, blob in sorted(entries, key=lambda e: e[0])]

    async def hit(self, key: str, window_seconds: float) -> int:
        now = self._clock()
        _, end = window_of(now, window_seconds)
        self._hits = {k: v for k, v in self._hits.items() if v[0] > now}
        _, count = self._hits.get((key, window_seconds), (end, 0))
        self._hits[key, window_seconds] = (end, count + 1)
        return count + 1

    async def put_task(self, task_id: str, doc: Record, expires: float) -> None:
        blob = json.dumps(doc)
        now = self._clock()
        self._tasks = {k: v for k, v in self._tasks.items() if v[0] > now}
        self._tasks[task_id] = (expires, blob)

    async def get_task(self, task_id: str) -> Record | None:
        entry = self._tasks.get(task_id)
        return _load(entry[1]) if entry and entry[0] > self._clock() else None

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def describe(self) -> str:
        return "memory (this process only)"


def _load(blob: str) -> Record:
    record: Record = json.loads(blob)
    return record
