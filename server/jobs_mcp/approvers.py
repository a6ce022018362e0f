"""The approvers: who can prove to the approval page that a person, not the model, said yes.

Each approver is a principal (``local`` for the person at this machine; the token's principal behind
``--auth-tokens``) with passkeys (WebAuthn public keys, see ``passkeys``) and/or a passphrase kept only as a
slow hash (scrypt). They live in one JSON file, mode 0600, beside the audit log by default
(``--approvers`` / ``JOBS_MCP_APPROVERS``). The file holds nothing that approves: a public key cannot sign, and
the passphrase is only its salted scrypt hash. It is changed only by ``jobs-mcp approver …`` run in a terminal,
and adding or removing a credential there needs one that exists already.

The server reads the file on each check, so an enrollment counts at once, without a restart.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobs_mcp.audit import default_audit_path
from jobs_mcp.principal import LOCAL

FILE_NAME = "approvers.json"
MIN_PASSPHRASE = 12
# scrypt at N=2^15, r=8: 32 MiB and ~0.1 s a guess, so a copied hash is slow to attack offline.
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
SCRYPT_MAXMEM = 64 * 1024 * 1024
ENROLL_COMMAND = "jobs-mcp approver enroll"
PASSPHRASE_COMMAND = "jobs-mcp approver passphrase"


class ApproverFileError(Exception):
    """The approvers file cannot be used; the message says how to fix it."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def person_of(principal: str) -> str:
    """Whose proof a principal's proposal needs. A signed-in principal (a name from the tokens file, which has no
    colon) proves as itself; a loopback session (``session:…``) or stdio is the person at this machine."""
    return principal if principal and ":" not in principal else LOCAL


@dataclass
class Passkey:
    id: str  # the credential id, base64url
    public_key: str  # COSE public key, base64url
    rp_id: str  # the host the passkey belongs to (e.g. localhost)
    label: str
    added: str
    sign_count: int = 0

    @property
    def short(self) -> str:
        return self.id[:10]


@dataclass
class Approver:
    passkeys: list[Passkey] = field(default_factory=list)
    passphrase: dict[str, Any] | None = None  # {"n", "r", "p", "salt", "hash"}

    @property
    def enrolled(self) -> bool:
        return bool(self.passkeys or self.passphrase)

    def passkeys_for(self, rp_id: str) -> list[Passkey]:
        return [k for k in self.passkeys if k.rp_id == rp_id]

    def check_passphrase(self, attempt: str) -> bool:
        if self.passphrase is None:
            return False
        p = self.passphrase
        got = hashlib.scrypt(
            attempt.encode(), salt=unb64(p["salt"]), n=p["n"], r=p["r"], p=p["p"], maxmem=SCRYPT_MAXMEM, dklen=32
        )
        return hmac.compare_digest(got, unb64(p["hash"]))

    def set_passphrase(self, new: str) -> None:
        if len(new) < MIN_PASSPHRASE:
            raise ValueError(f"The passphrase must be at least {MIN_PASSPHRASE} characters.")
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(new.encode(), salt=salt, maxmem=SCRYPT_MAXMEM, dklen=32, **SCRYPT)
        self.passphrase = {**SCRYPT, "salt": _b64(salt), "hash": _b64(digest)}


def default_approvers_path(audit_db: str | None = None) -> Path:
    """Beside the audit log: ``$XDG_STATE_HOME/jobs-mcp/approvers.json`` by default."""
    base = Path(audit_db).expanduser().parent if audit_db else default_audit_path().parent
    return base / FILE_NAME


class ApproverFile:
    """The approvers, read from and written to one JSON file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()

    def load(self) -> dict[str, Approver]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ApproverFileError(f"The approvers file {self.path} cannot be read ({exc.strerror}).") from None
        with os.fdopen(fd, "rb") as fh:
            mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
            if mode & 0o022:
                raise ApproverFileError(
                    f"The approvers file {self.path} can be changed by other users (mode {mode:04o}), so it is not "
                    f"used: anyone could add themselves as an approver. Run: chmod 600 {self.path}"
                )
            raw = fh.read()
        try:
            data = json.loads(raw)
            return {
                name: Approver(
                    passkeys=[Passkey(**k) for k in entry.get("passkeys", [])],
                    passphrase=entry.get("passphrase"),
                )
                for name, entry in data.get("approvers", {}).items()
            }
        except (ValueError, TypeError, AttributeError):
            raise ApproverFileError(
                f"The approvers file {self.path} is not one this server wrote. Move it away and enroll again with: "
                f"{ENROLL_COMMAND}"
            ) from None

    def get(self, person: str) -> Approver:
        return self.load().get(person) or Approver()

    def save(self, approvers: dict[str, Approver]) -> None:
        data = {
            "version": 1,
            "approvers": {
                name: {
                    "passkeys": [vars(k) for k in a.passkeys],
                    **({"passphrase": a.passphrase} if a.passphrase else {}),
                }
                for name, a in sorted(approvers.items())
                if a.enrolled
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def update(self, person: str, approver: Approver) -> None:
        approvers = self.load()
        approvers[person] = approver
        self.save(approvers)

    def count_use(self, person: str, credential_id: str, sign_count: int) -> None:
        """Keep a passkey's signature counter (a cloned authenticator shows as a counter going back). Best effort:
        an operator may have made the file read-only for the server."""
        with contextlib.suppress(OSError, ApproverFileError):
            approvers = self.load()
            for key in approvers.get(person, Approver()).passkeys:
                if key.id == credential_id and sign_count > key.sign_count:
                    key.sign_count = sign_count
                    self.save(approvers)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_passkey(credential_id: bytes, public_key: bytes, rp_id: str, label: str, sign_count: int) -> Passkey:
    return Passkey(
        id=_b64(credential_id), public_key=_b64(public_key), rp_id=rp_id, label=label, added=now_iso(),
        sign_count=sign_count,
    )  # fmt: skip
