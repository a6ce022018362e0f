"""Proof of a person: which actions need it, and checking it on the approval page.

A link is not a person: an agent with a shell can open any page it was shown and post its form. So an action at
or above the proof tier (high risk by default: kill, delete, batch and bulk; ``--person-proof`` or an account's
``person_proof`` lowers it) is approved on the page only with a proof the model cannot produce: one of the
approver's passkeys (user verification required) or their approver passphrase. Asked through the client
(elicitation) is a person too: the client shows the question to them, not to the model.

Wrong passphrases are rate limited per approver (``PASSPHRASE_TRIES`` a minute, counted in the state store so
replicas share the count).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio

from jobs_mcp.approvers import ENROLL_COMMAND, PASSPHRASE_COMMAND, Approver, ApproverFile, person_of
from jobs_mcp.passkeys import Origin, PasskeyRefused, approval_options, verify_approval

if TYPE_CHECKING:
    from jobs_mcp.confirmation import Signer
    from jobs_mcp.state import Record, StateStore

Tier = Literal["low", "medium", "high"]
RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}
PASSPHRASE_TRIES = 5
PASSPHRASE_WINDOW = 60.0


class ProofRefused(Exception):
    """No proof of a person came with the approval; the message says why. Nothing is sent."""


@dataclass(frozen=True)
class Proven:
    """How the person was proven, for the audit log: ``passkey:<label>`` or ``passphrase``."""

    how: str
    person: str


def enroll_hint(person: str) -> str:
    suffix = "" if person == "local" else f" --principal {person}"
    return (
        f"The person enrolls once, in their own terminal: `{ENROLL_COMMAND}{suffix}` (a passkey) or "
        f"`{PASSPHRASE_COMMAND}{suffix}` (an approver passphrase)."
    )


class PersonCheck:
    """The proof tier and the approvers file, as the gate and the page use them."""

    def __init__(self, approvers: ApproverFile, tier: Tier = "high") -> None:
        self.approvers = approvers
        self.tier = tier

    def needed(self, risk: str, account_tier: str | None = None) -> bool:
        """Whether an action of this risk needs a person's proof (the account's tier, else the server's)."""
        return RANK[risk] >= RANK[account_tier or self.tier]

    def approver(self, principal: str) -> Approver:
        return self.approvers.get(person_of(principal))

    def enrolled(self, principal: str) -> bool:
        return self.approver(principal).enrolled

    @staticmethod
    def challenge(signer: Signer, record: Record) -> bytes:
        """The passkey challenge of a proposal: derived from what is approved, the same on every replica."""
        fields = [record["id"], record["digest"], record["version"], record.get("principal", ""), record["expires"]]
        key = signer.derive("passkey-challenge/v1")
        return hmac.new(key, "\x1f".join(map(str, fields)).encode(), hashlib.sha256).digest()

    def page_options(self, signer: Signer, record: Record, where: Origin) -> str | None:
        """The passkey request for this proposal's page, or None when its approver has no passkey for this host."""
        return approval_options(self.approver(record.get("principal", "")), where, self.challenge(signer, record))

    async def verify(
        self, signer: Signer, store: StateStore, record: Record, where: Origin, assertion: str, passphrase: str
    ) -> Proven:
        """The person's proof for this proposal from the page's form, or ProofRefused saying why."""
        person = person_of(record.get("principal", ""))
        approver = self.approvers.get(person)
        if not approver.enrolled:
            hint = enroll_hint(person)
            raise ProofRefused(f"No approver is enrolled for {person}, so this cannot be approved yet. {hint}")
        if assertion:
            try:
                key, count = verify_approval(approver, where, self.challenge(signer, record), assertion)
            except PasskeyRefused as exc:
                raise ProofRefused(f"{exc} Nothing was sent.") from None
            self.approvers.count_use(person, key.id, count)
            return Proven(f"passkey:{key.label}", person)
        if passphrase:
            if await store.hit(f"approver-passphrase:{person}", PASSPHRASE_WINDOW) > PASSPHRASE_TRIES:
                raise ProofRefused("Too many passphrase attempts; wait a minute. Nothing was sent.")
            # scrypt takes ~0.1 s of CPU: off the event loop, so other requests go on meanwhile
            if await anyio.to_thread.run_sync(approver.check_passphrase, passphrase):
                return Proven("passphrase", person)
            raise ProofRefused("That approver passphrase is not right. Nothing was sent.")
        ways = "your passkey or your approver passphrase" if approver.passkeys else "your approver passphrase"
        raise ProofRefused(f"This action needs {ways} to approve it. Nothing was sent.")
