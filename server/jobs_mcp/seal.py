"""Signed state: every record the gate keeps in its state store carries an HMAC under the gate key.

Whoever can write to the store (a Redis reachable from a shell, the SQLite file) could otherwise change what a
person's approval sends: edit a pending request's body, put in a page secret of their own, change the principal
or the channel, or forge a whole record. So the gate seals what it stores — a pending proposal with its
page-secret hash and channel, and the spent mark left when it is decided — with an HMAC-SHA256 under a key
derived from the gate key for this use alone, over the kind of record, the nonce it is kept under and all its
fields as canonical JSON (sorted keys, no whitespace). Reading it back checks the seal and, for a proposal,
recomputes the request digest from the stored request. The stores stay plain keepers of JSON: they never see
the key, and a record moved to another nonce, or a spent mark passed off as a proposal, fails the check.

A seal cannot stop a record being deleted. A deleted spent mark with the old (genuine) proposal put back is
caught outside the store: the gate refuses to send an action the audit log already has (``Gate.execute``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Literal

from mcp.server.mcpserver.exceptions import ToolError

from jobs_mcp.confirmation import ConfirmationRefused, Signer, canonical_digest
from jobs_mcp.state import Record

SEAL = "seal"
"""The field of a stored record that holds its HMAC (hex)."""

Kind = Literal["proposal", "spent"]


class Refused(ConfirmationRefused, ToolError):
    """The gate will not send this (a stored record that fails its seal, an action the audit log already has):
    the message says why; the page shows it, and a tool call returns it to the model."""


class Tampered(Refused):
    """A stored record fails its seal: it was changed, forged or moved in the state store."""


TAMPERED = (
    "This proposal, as stored, fails the gate's signature check: it was changed in the state store after it was "
    "proposed, or never made by this server. Nothing was sent, and it cannot be approved; the refusal is in the "
    "audit log. Tell the person and the operator: someone who can write to the state store tried to change what "
    "would be sent."
)


class Sealer:
    """Seals records before they are stored and checks them when they are read."""

    def __init__(self, signer: Signer) -> None:
        self._key = signer.derive("state-record/v1")

    def _mac(self, kind: Kind, nonce: str, fields: Record) -> str:
        blob = json.dumps([kind, nonce, fields], sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hmac.new(self._key, blob.encode(), hashlib.sha256).hexdigest()

    def seal(self, kind: Kind, nonce: str, record: Record) -> Record:
        """``record`` with its seal, ready to store under ``nonce`` (a seal already there is replaced)."""
        fields = {k: v for k, v in record.items() if k != SEAL}
        return fields | {SEAL: self._mac(kind, nonce, fields)}

    def check(self, kind: Kind, nonce: str, stored: Record) -> Record:
        """The record's fields (without the seal) if the seal is the gate's and, for a proposal, its digest is its
        request's; ``Tampered`` otherwise."""
        fields = {k: v for k, v in stored.items() if k != SEAL}
        seal = stored.get(SEAL)
        try:
            expected = self._mac(kind, nonce, fields)
        except (TypeError, ValueError):  # not plain JSON: no store gives that back, so nothing this server made
            raise Tampered(TAMPERED) from None
        if not isinstance(seal, str) or not hmac.compare_digest(seal, expected):
            raise Tampered(TAMPERED)
        if kind == "proposal" and canonical_digest(fields.get("request")) != fields.get("digest"):
            raise Tampered(TAMPERED)  # the seal covers it too; checked again so a digest is never taken on trust
        return fields
