"""The gate's pending records: opened lazily, sealed when stored, checked when read, taken once."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jobs_mcp.audit import AuditLog
from jobs_mcp.confirmation import Signer, nonce_of
from jobs_mcp.operations import Operation
from jobs_mcp.seal import Refused, Sealer, Tampered
from jobs_mcp.state import Record, StateStore
from jobs_mcp.state.memory import MemoryStore
from jobs_mcp.textsafe import one_line

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient


log = logging.getLogger(__name__)


class SealedRecords:
    """The gate's state: pending proposals in the state store, each sealed (signed) when stored and checked
    when read, a spent one refused; every refusal audited."""

    def __init__(
        self,
        *,
        client: Callable[[str, str | None], ApiClient],
        audit: AuditLog,
        state: Callable[[], tuple[StateStore, Signer]] | None = None,
        ttl: float = 600.0,
        sandbox: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.audit = audit
        # Opened on first use: listing tools needs no state store (start-up time), and a store may be a file.
        self._open_state = state or (lambda: (MemoryStore(clock=lambda: self.clock()), Signer()))
        self._state: tuple[StateStore, Signer] | None = None
        self._sealer: Sealer | None = None
        self.ttl = ttl
        self.sandbox = sandbox
        self.clock = clock
        self._ops: dict[str, Operation[Any, Any]] = {}

    @property
    def store(self) -> StateStore:
        if self._state is None:
            self._state = self._open_state()
        return self._state[0]

    @property
    def signer(self) -> Signer:
        self.store  # noqa: B018 (opens the state, which holds the signing key)
        assert self._state is not None
        return self._state[1]

    @property
    def sealer(self) -> Sealer:
        """Seals what the gate stores and checks it on every read (``jobs_mcp.seal``)."""
        if self._sealer is None:
            self._sealer = Sealer(self.signer)
        return self._sealer

    # --- the state store, sealed (every record signed when stored, checked when read) -----------------------

    async def _put(self, nonce: str, record: Record) -> None:
        await self.store.put(nonce, self.sealer.seal("proposal", nonce, record), record["expires"])

    async def _get(self, nonce: str, action: str, principal: str | None, channel: str) -> Record | None:
        """The pending record under ``nonce`` with its seal checked; None when there is none. One that fails is
        refused (``Tampered``) and the refusal audited, under the ``action`` the caller named."""
        stored = await self.store.get(nonce)
        return None if stored is None else self._opened(nonce, stored, action, principal=principal, channel=channel)

    async def _take(self, nonce: str, record: Record, channel: str) -> bool:
        """Take the pending record (single use): True when this call took it, what it took is sealed too, and the
        audit log has never seen the action decided. That last check is outside the store: a spent mark deleted
        and the genuine record put back is still refused (``Refused``), and the refusal audited."""
        stored = await self.store.take(nonce)
        if stored is None:
            return False
        who = {"principal": str(record.get("principal", "local")), "channel": channel}
        self._opened(nonce, stored, record["id"], **who)
        if decided := [row for row in self.audit.history(record["id"]) if row["phase"] in ("intent", "decision")]:
            reason = (
                f"This proposal was already decided at {decided[0]['at']} (the audit log has it), so it is not sent "
                "again: approvals are single use. Nothing was sent."
            )
            self.audit.refusal(record["id"], record["account"], record["tool"], {}, reason, **who)
            raise Refused(reason)
        return True

    async def _all(self, principal: str) -> list[Record]:
        """The caller's pending records whose seals hold (one that fails is left out, and the refusal audited)."""
        records: dict[str, Record] = {}  # by id: a genuine record copied under another nonce is still one proposal
        for stored in await self.store.all(principal):
            action = str(stored.get("id", ""))
            with contextlib.suppress(Tampered):
                opened = self._opened(nonce_of(action) or "-", stored, action, principal=principal, channel="list")
                records.setdefault(action, opened)
        return list(records.values())

    def _opened(self, nonce: str, stored: Record, action: str, *, principal: str | None, channel: str) -> Record:
        try:
            return self.sealer.check("proposal", nonce, stored)
        except Tampered as exc:
            request = stored.get("request")
            shown = {
                "method": one_line(request.get("method"), 10) if isinstance(request, dict) else "",
                "url": one_line(request.get("path"), 200) if isinstance(request, dict) else "",
                "stored": stored,
            }
            self.audit.refusal(
                one_line(action, 200),
                one_line(stored.get("account", "?"), 40),
                one_line(stored.get("tool", "?"), 60),
                shown,
                "stored record fails its signature check (changed or forged in the state store)",
                principal=one_line(principal or stored.get("principal", "?"), 80),
                channel=channel,
            )
            log.warning("refused a pending record that fails its signature check (nonce %s)", one_line(nonce, 40))
            raise exc from None
