"""Where proposals wait for their confirmation, and where spent ids are remembered.

``take`` removes a pending action and marks its nonce spent in one step, so of two confirmations racing for
the same id exactly one wins. Records are plain JSON-able dicts so another store (e.g. Redis, shared by
replicas) can keep them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

Record = dict[str, Any]


class PendingStore(Protocol):
    async def put(self, nonce: str, record: Record, expires: float) -> None: ...
    async def get(self, nonce: str) -> Record | None: ...
    async def take(self, nonce: str) -> Record | None: ...
    async def was_spent(self, nonce: str) -> bool: ...
    async def all(self) -> list[Record]: ...


class MemoryStore:
    """The default store: this process only."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pending: dict[str, tuple[float, Record]] = {}
        self._spent: dict[str, float] = {}

    def _expire(self) -> None:
        now = self._clock()
        self._pending = {k: v for k, v in self._pending.items() if v[0] > now}
        self._spent = {k: v for k, v in self._spent.items() if v > now}

    async def put(self, nonce: str, record: Record, expires: float) -> None:
        self._expire()
        self._pending[nonce] = (expires, record)

    async def get(self, nonce: str) -> Record | None:
        self._expire()
        entry = self._pending.get(nonce)
        return entry[1] if entry else None

    async def take(self, nonce: str) -> Record | None:
        self._expire()
        entry = self._pending.pop(nonce, None)
        if entry is None:
            return None
        self._spent[nonce] = entry[0] + 3600  # remembered past expiry so a replay is named as such
        return entry[1]

    async def was_spent(self, nonce: str) -> bool:
        self._expire()
        return nonce in self._spent

    async def all(self) -> list[Record]:
        self._expire()
        return [record for _, record in self._pending.values()]
