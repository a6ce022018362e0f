"""Confirmation ids: readable, HMAC-signed, single use.

An id reads like ``pause:lytics/acme/4f2a9c0e:7c1d2e3f4a5b.mi3x2k.Qm9vZGxl...`` — what it does, to which
account and target, then a nonce, the expiry (base-36 epoch seconds) and a signature. The signature covers the
tool, account, target, nonce and expiry shown in the id *and* what is kept with the pending action: the
canonical digest of the request, the target's version and the principal who proposed it, so an edited id is
refused. The pending action lives in a state store (``jobs_mcp.state``) keyed by nonce; confirming takes it out
atomically, which is what makes an id single use. The id's signature alone does not protect the stored action
(its request could be edited and the digest recomputed): the gate seals every stored record over all its fields
and recomputes the digest from the stored request on every read (``jobs_mcp.seal``), and refuses an action the
audit log already has, so an edit or a deleted spent mark in the store changes nothing that is sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

_HEAD = (
    r"^(?P<verb>[a-z_]{1,20}):(?P<provider>[a-z]{1,20})/(?P<account>[A-Za-z0-9_-]{1,40})/(?P<target>[A-Za-z0-9_-]{1,40})"
    r":(?P<nonce>[0-9a-f]{12})"
)
_ID = re.compile(_HEAD + r"\.(?P<exp>[0-9a-z]{1,10})\.(?P<sig>[A-Za-z0-9_-]{22})$")
_HANDLE = re.compile(_HEAD + "$")


class ConfirmationRefused(Exception):
    """The id cannot be used; the message says why and what to do."""


def canonical_digest(value: Any) -> str:
    """A stable digest of any JSON-able value (sorted keys, no whitespace)."""
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class ConfirmationId:
    verb: str
    provider: str
    account: str
    target: str
    nonce: str
    expires: int  # epoch seconds
    sig: str

    def __str__(self) -> str:
        return f"{self.handle}.{_b36(self.expires)}.{self.sig}"

    @property
    def handle(self) -> str:
        """The id without its expiry and signature: names a proposal (to list or cancel it), cannot confirm it."""
        return f"{self.verb}:{self.provider}/{self.account}/{self.target}:{self.nonce}"

    @classmethod
    def parse(cls, text: str) -> ConfirmationId:
        match = _ID.match(text.strip())
        if match is None:
            raise ConfirmationRefused(
                "That is not a confirmation id of this server. Use the confirmation_id exactly as the proposal "
                "gave it, or call list_pending_actions."
            )
        p = match.groupdict()
        return cls(p["verb"], p["provider"], p["account"], p["target"], p["nonce"], int(p["exp"], 36), p["sig"])


def nonce_of(text: str) -> str | None:
    """The nonce of a full id or of a handle; None when the text is neither."""
    match = _ID.match(text.strip()) or _HANDLE.match(text.strip())
    return match.group("nonce") if match else None


class Signer:
    """Makes and checks signatures with one secret (shared by every replica that shares a gate)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def derive(self, purpose: str) -> bytes:
        """A key for another use (e.g. the approval page's sign-in cookie), derived from this one."""
        return hmac.new(self._key, f"jobs-mcp/{purpose}".encode(), hashlib.sha256).digest()

    def sign(
        self,
        *,
        verb: str,
        provider: str,
        account: str,
        target: str,
        nonce: str,
        expires: int,
        request_digest: str,
        version: str,
        principal: str,
    ) -> str:
        fields = (verb, provider, account, target, nonce, str(expires), request_digest, version, principal)
        message = "\x1f".join(fields)
        mac = hmac.new(self._key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode()[:22]

    def new_id(
        self,
        *,
        verb: str,
        provider: str,
        account: str,
        target: str,
        expires: int,
        request_digest: str,
        version: str,
        principal: str,
    ) -> ConfirmationId:
        nonce = secrets.token_hex(6)
        sig = self.sign(
            verb=verb,
            provider=provider,
            account=account,
            target=target,
            nonce=nonce,
            expires=expires,
            request_digest=request_digest,
            version=version,
            principal=principal,
        )
        return ConfirmationId(verb, provider, account, target, nonce, expires, sig)

    def code(self, text: str, length: int = 6) -> str:
        """A short code derived from ``text`` that only this key can make (typed back by the person for a
        permanent action; derived, not random, so asking twice about the same request shows the same code)."""
        mac = hmac.new(self._key, b"code\x1f" + text.encode(), hashlib.sha256).digest()
        return base64.b32encode(mac).decode()[:length]

    def matches(self, cid: ConfirmationId, *, request_digest: str, version: str, principal: str) -> bool:
        expected = self.sign(
            verb=cid.verb,
            provider=cid.provider,
            account=cid.account,
            target=cid.target,
            nonce=cid.nonce,
            expires=cid.expires,
            request_digest=request_digest,
            version=version,
            principal=principal,
        )
        return hmac.compare_digest(expected, cid.sig)


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out
