"""Passkeys (WebAuthn) for the approval page and for enrolling approvers, through py_webauthn.

User verification is required both when a passkey is made and each time it approves: the authenticator checks
the person (fingerprint, face, device PIN), not only that someone touched it. The relying party id is the host
of the page (``localhost`` for the loopback page; a passkey made for another host is never offered and never
verifies), and the expected origin is the page's own.

The challenge of an approval is derived from the proposal (its id, request digest, target version, principal
and expiry) under the gate key: the signature the passkey makes covers exactly the request being approved,
every replica computes the same challenge, and none needs to be stored.

The browser side is one small static script (its hash pinned in the page's Content-Security-Policy): it reads
the options from the button's ``data-options``, asks the authenticator, and posts the answer back in the form.
py_webauthn (and the cryptography it needs) is imported only when a passkey is used.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jobs_mcp.approvers import Approver, Passkey, new_passkey, unb64

RP_NAME = "jobs-mcp approvals"
TIMEOUT_MS = 120_000


class PasskeyRefused(Exception):
    """The passkey answer does not prove the person; the message says why (nothing is sent)."""


@dataclass(frozen=True)
class Origin:
    """Where the page is, as the browser sees it: the origin it checks and the relying party id."""

    origin: str  # e.g. http://localhost:8123

    @property
    def rp_id(self) -> str:
        return urlsplit(self.origin).hostname or ""

    @property
    def usable(self) -> bool:
        """WebAuthn needs a host name (not an IP address) in a secure context: https, or http on localhost."""
        try:
            ipaddress.ip_address(self.rp_id)
        except ValueError:
            return self.origin.startswith("https://") or self.rp_id == "localhost"
        return False


def _descriptor(key: Passkey) -> Any:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    return PublicKeyCredentialDescriptor(id=unb64(key.id))


def approval_options(approver: Approver, where: Origin, challenge: bytes) -> str | None:
    """The JSON options for ``navigator.credentials.get`` with the approver's passkeys for this host, or None when
    they have none here."""
    keys = approver.passkeys_for(where.rp_id)
    if not keys or not where.usable:
        return None
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=where.rp_id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(k) for k in keys],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return str(options_to_json(options))


def verify_approval(approver: Approver, where: Origin, challenge: bytes, answer: str) -> tuple[Passkey, int]:
    """The passkey that signed ``challenge`` with the person verified, and its new signature count; or
    PasskeyRefused."""
    try:
        credential = json.loads(answer)
        credential_id = str(credential["rawId"])
    except (ValueError, KeyError, TypeError):
        raise PasskeyRefused("The passkey answer could not be read.") from None
    key = next((k for k in approver.passkeys_for(where.rp_id) if k.id == credential_id.rstrip("=")), None)
    if key is None:
        raise PasskeyRefused(f"That passkey is not enrolled as an approver for {where.rp_id}.")
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=where.rp_id,
            expected_origin=where.origin,
            credential_public_key=unb64(key.public_key),
            credential_current_sign_count=key.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRefused(f"The passkey did not verify: {exc}") from None
    return key, verified.new_sign_count


def enrollment_options(approver: Approver, person: str, where: Origin, challenge: bytes) -> str:
    """The JSON options for ``navigator.credentials.create``: a passkey with user verification, not one of the
    person's existing ones."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=where.rp_id,
        rp_name=RP_NAME,
        user_name=f"approver {person}",
        user_id=hashlib.sha256(f"jobs-mcp approver {person}".encode()).digest()[:16],
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(k) for k in approver.passkeys_for(where.rp_id)],
    )
    return str(options_to_json(options))


def verify_enrollment(where: Origin, challenge: bytes, answer: str, label: str) -> Passkey:
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = verify_registration_response(
            credential=json.loads(answer),
            expected_challenge=challenge,
            expected_rp_id=where.rp_id,
            expected_origin=where.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRefused(f"The new passkey did not verify: {exc}") from None
    return new_passkey(verified.credential_id, verified.credential_public_key, where.rp_id, label, verified.sign_count)


# The browser side: a button with data-mode ("get", or "create" after an optional "get") and data-options; the
# answers go into the form's hidden fields `assertion` / `attestation`, then the form is sent.
SCRIPT = """
(function () {
  var b64 = function (buf) {
    var s = String.fromCharCode.apply(null, new Uint8Array(buf));
    return btoa(s).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  };
  var bytes = function (text) {
    var s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(s, function (c) { return c.charCodeAt(0); });
  };
  var list = function (items) {
    return (items || []).map(function (d) { return Object.assign({}, d, {id: bytes(d.id)}); });
  };
  var answer = function (cred) {
    var r = cred.response, out = {};
    ["clientDataJSON", "authenticatorData", "signature", "userHandle", "attestationObject"].forEach(function (k) {
      if (r[k]) { out[k] = b64(r[k]); }
    });
    if (r.getTransports) { out.transports = r.getTransports(); }
    return JSON.stringify({id: cred.id, rawId: b64(cred.rawId), type: cred.type, response: out,
      clientExtensionResults: {}, authenticatorAttachment: cred.authenticatorAttachment || null});
  };
  var get = function (o) {
    return navigator.credentials.get({publicKey: Object.assign({}, o, {challenge: bytes(o.challenge),
      allowCredentials: list(o.allowCredentials)})});
  };
  var create = function (o) {
    return navigator.credentials.create({publicKey: Object.assign({}, o, {challenge: bytes(o.challenge),
      user: Object.assign({}, o.user, {id: bytes(o.user.id)}), excludeCredentials: list(o.excludeCredentials)})});
  };
  document.querySelectorAll("button[data-passkey]").forEach(function (button) {
    button.addEventListener("click", async function (event) {
      event.preventDefault();
      var form = button.form, status = document.getElementById("passkey-status");
      try {
        if (button.dataset.get) { form.elements.assertion.value = answer(await get(JSON.parse(button.dataset.get))); }
        if (button.dataset.create) {
          form.elements.attestation.value = answer(await create(JSON.parse(button.dataset.create)));
        }
        form.submit();
      } catch (err) {
        if (status) { status.textContent = "The passkey was not used: " + err.name + ". Nothing was sent."; }
      }
    });
  });
})();
"""
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
