"""The approval page's HTML: plain markup from the server, one stylesheet and one static script (the passkey
ceremony, ``passkeys.SCRIPT``), each pinned by its hash in the Content-Security-Policy.

Everything that came from a platform or the model (names, values, URLs, error text) is HTML-escaped here, and
made visible first where it could hide characters (``textsafe.one_line``); JSON is shown with ``ensure_ascii``
so no invisible or bidirectional character survives. The API token is never part of a proposal, so never here.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from html import escape
from typing import Any

from jobs_mcp.gate import ActionResult
from jobs_mcp.passkeys import SCRIPT, SCRIPT_HASH
from jobs_mcp.textsafe import one_line

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2430}
main{max-width:860px;margin:24px auto;padding:24px 28px;background:#fff;border-radius:10px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:20px;margin:0 0 6px}h2{font-size:15px;margin:22px 0 8px;color:#3b4658;text-transform:uppercase;
letter-spacing:.04em}
.meta{color:#5b6577;font-size:13px}
.risk{padding:10px 14px;border-radius:6px;margin:14px 0;background:#fff6e0;border:1px solid #f0c36d}
.risk.high{background:#fdecec;border-color:#e08a8a}.risk.low{background:#eef7ee;border-color:#9ccc9c}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #dde1e7;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5}
pre,code{font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid #dde1e7;border-radius:6px;padding:10px;margin:0;white-space:pre-wrap;
word-break:break-all;max-height:480px;overflow:auto}
td pre{border:0;padding:0;background:none;max-height:none}
.code{font:600 22px ui-monospace,Menlo,monospace;letter-spacing:.2em;background:#1d2430;color:#fff;
padding:4px 12px;border-radius:6px}
form{margin-top:22px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
input[type=password]{font:15px ui-monospace,monospace;padding:8px;border:1px solid #aab2bf;border-radius:6px;
width:22em}
input[type=text]{font:16px ui-monospace,monospace;padding:8px;border:1px solid #aab2bf;border-radius:6px;
width:10em;text-transform:uppercase}
button{font:600 15px system-ui,sans-serif;padding:9px 22px;border-radius:6px;border:1px solid transparent;
cursor:pointer}
.approve{background:#1f7a3d;color:#fff}.decline{background:#fff;color:#8a1f1f;border-color:#c9a0a0}
.outcome{padding:12px 14px;border-radius:6px;font-weight:600}
.ok{background:#eef7ee;border:1px solid #9ccc9c}.bad{background:#fdecec;border:1px solid #e08a8a}
.neutral{background:#f0f2f5;border:1px solid #dde1e7}
.proof{margin-top:22px;padding:14px 16px;border:1px solid #dde1e7;border-radius:8px;background:#fafbfc}
.proof form{margin-top:10px}.proof p{margin:4px 0}
"""
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; script-src 'sha256-{SCRIPT_HASH}'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL holds the secret
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

_OUTCOMES = {
    "executed": ("Done", "ok"),
    "stale": ("Not sent: the target changed since the proposal", "bad"),
    "failed": ("Failed", "bad"),
    "unknown": ("Outcome unknown", "bad"),
    "declined": ("Declined: nothing was sent", "neutral"),
}


_FOR_THE_MODEL = "Done. Tell the person the result."


def _text(value: object, limit: int = 2000) -> str:
    return escape(one_line(value, limit))


def _json(value: Any) -> str:
    if value is None:
        return "<em>(none)</em>"
    return f"<pre>{escape(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True, default=str))}</pre>"


def _document(title: str, body: str, script: bool = False) -> str:
    code = f"<script>{SCRIPT}</script>" if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body><main>{body}</main>{code}</body></html>"
    )


def _details(result: ActionResult) -> str:
    parts = []
    if result.risk is not None:
        level = escape(result.risk.level)
        lost = "<strong>This cannot be undone.</strong> " if result.risk.irreversible else ""
        parts.append(f'<div class="risk {level}">Risk: <strong>{level}</strong>. {lost}{_text(result.risk.note)}</div>')
    parts.append(f"<h2>What changes ({len(result.changes)})</h2>")
    if result.changes:
        rows = "".join(
            f"<tr><td><code>{_text(c.field, 500)}</code></td><td>{_json(c.before)}</td><td>{_json(c.after)}</td></tr>"
            for c in result.changes
        )
        parts.append(f"<table><tr><th>Path</th><th>Now</th><th>After</th></tr>{rows}</table>")
    else:
        parts.append('<p class="meta">No field values change; the request below is the action.</p>')
    if result.request is not None:
        req = result.request
        parts.append("<h2>The exact request</h2>")
        parts.append(f"<p><code><strong>{escape(req.method)}</strong> {_text(req.url, 4000)}</code></p>")
        if req.headers:
            rows = "".join(
                f"<tr><td><code>{_text(k)}</code></td><td><code>{_text(v)}</code></td></tr>"
                for k, v in req.headers.items()
            )
            parts.append(f"<table><tr><th>Header</th><th>Value</th></tr>{rows}</table>")
        else:
            parts.append('<p class="meta">Headers: none besides the account\'s credential (never shown).</p>')
        parts.append('<p class="meta">Body:</p>' + _json(req.body))
    return "".join(parts)


@dataclass(frozen=True)
class ProofAsk:
    """What the page asks of the person before Approve sends anything (an action at or above the proof tier)."""

    passkey_options: str | None  # JSON for navigator.credentials.get, when they have a passkey for this host
    passphrase: bool  # they have an approver passphrase
    enroll_hint: str  # what to run when they have neither


def _hidden(secret: str, decision: str) -> str:
    return (
        f'<input type="hidden" name="s" value="{escape(secret)}">'
        f'<input type="hidden" name="decision" value="{escape(decision)}">'
    )


def _proof_forms(action: str, secret: str, ask: ProofAsk) -> str:
    """Approve with a passkey and/or the approver passphrase; nothing else approves."""
    parts = ['<div class="proof"><p><strong>This needs proof that you, a person, approve it.</strong></p>']
    if ask.passkey_options:
        parts.append(
            f'<form method="post" action="{escape(action)}">{_hidden(secret, "approve")}'
            '<input type="hidden" name="assertion" value="">'
            f'<button class="approve" type="button" data-passkey data-get="{escape(ask.passkey_options)}">'
            'Approve with passkey</button><span id="passkey-status" class="meta"></span></form>'
        )
    if ask.passphrase:
        parts.append(
            f'<form method="post" action="{escape(action)}">{_hidden(secret, "approve")}'
            '<label>Approver passphrase <input type="password" name="passphrase" autocomplete="off" required '
            'maxlength="1024"></label><button class="approve" type="submit">Approve with passphrase</button></form>'
        )
    if not ask.passkey_options and not ask.passphrase:
        parts.append(f"<p>No way to prove it is set up for you on this page. {_text(ask.enroll_hint, 500)}</p>")
    parts.append("</div>")
    return "".join(parts)


def proposal_page(result: ActionResult, action: str, secret: str, proof: ProofAsk | None) -> str:
    """The whole proposal with Approve and Decline (plain form POSTs); with ``proof``, Approve needs the person's
    passkey or approver passphrase."""
    where = f"{escape(result.platform or '')} · expires {escape(result.expires_at or '')}"
    if proof is None:
        approve = (
            f'<form method="post" action="{escape(action)}">{_hidden(secret, "approve")}'
            '<button class="approve" type="submit">Approve and send</button></form>'
        )
    else:
        approve = _proof_forms(action, secret, proof)
    decline = (
        f'<form method="post" action="{escape(action)}">{_hidden(secret, "decline")}'
        '<button class="decline" type="submit">Decline</button></form>'
    )
    body = (
        f'<p class="meta">jobs-mcp · approval needed · {where}</p><h1>{_text(result.summary, 500)}</h1>'
        f"{_details(result)}{approve}{decline}"
    )
    return _document("Approve: " + one_line(result.summary, 80), body, script=proof is not None)


def enroll_page(action: str, person: str, get: str | None, create: str, what: str) -> str:
    """The loopback page of ``jobs-mcp approver``: make a passkey (after proving with an existing one when ``get``)
    or, with an empty ``create``, only prove with an existing one."""
    steps = "First your existing passkey, then the new one. " if get and create else ""
    data = "".join(f' data-{name}="{escape(value)}"' for name, value in (("get", get), ("create", create)) if value)
    form = (
        f'<form method="post" action="{escape(action)}">'
        '<input type="hidden" name="assertion" value=""><input type="hidden" name="attestation" value="">'
        f'<button class="approve" type="button" data-passkey{data}>{escape(what)}</button>'
        '<span id="passkey-status" class="meta"></span></form>'
    )
    body = (
        f'<p class="meta">jobs-mcp · approver {escape(person)}</p><h1>{escape(what)}</h1>'
        f"<p>{steps}Your device will ask you to verify yourself (fingerprint, face or device PIN). Passkeys made "
        "here approve permanent actions on this machine's approval page.</p>"
        f"{form}"
    )
    return _document(what, body, script=True)


def outcome_page(result: ActionResult) -> str:
    heading, tone = _OUTCOMES.get(result.status, (result.status, "neutral"))
    state = ""
    if result.target is not None:
        shown = {k: result.target.get(k) for k in ("id", "name", "status") if k in result.target}
        if shown:
            pairs = ", ".join(f"{escape(k)} = <code>{_text(v, 200)}</code>" for k, v in shown.items())
            state = f"<p>Now: {pairs}</p>"
    note = result.next_step.replace(_FOR_THE_MODEL, "").strip()  # said to the model, not to this person
    body = (
        f'<p class="meta">jobs-mcp · {escape(result.platform or "")}</p><h1>{_text(result.summary, 500)}</h1>'
        f'<p class="outcome {tone}">{escape(heading)}</p>{state}<p>{_text(note, 2000)}</p>'
        '<p class="meta">You can close this page. The assistant will not see this page; tell it the action was '
        "decided, and it can check the job's state.</p>"
    )
    return _document(heading, body)


def message_page(title: str, text: str) -> str:
    body = f'<p class="meta">jobs-mcp</p><h1>{escape(title)}</h1><p>{_text(text, 1000)}</p>'
    return _document(title, body)


def sign_in_page(action: str, note: str = "") -> str:
    """The approval page's sign-in (when the server runs with access tokens): a password field for the person's
    own access token, POSTed to ``action``. No proposal detail is shown before sign-in."""
    said = f'<p class="outcome bad">{_text(note, 500)}</p>' if note else ""
    body = (
        '<p class="meta">jobs-mcp · approval needed</p><h1>Sign in to see this proposal</h1>'
        f"{said}<p>This server requires its access token. Sign in with the access token of the client that made "
        "the proposal; only that principal can approve or decline it.</p>"
        f'<form method="post" action="{escape(action)}">'
        '<label>Access token <input type="password" name="token" autocomplete="off" required maxlength="512">'
        '</label><button class="approve" type="submit">Sign in</button></form>'
        '<p class="meta">The token is checked and forgotten; the page keeps only a signed session cookie.</p>'
    )
    return _document("Sign in", body)
