"""Remote text is data: whatever a platform sends (names, messages, config keys), a rendered proposal keeps its
shape, and no line of it can pass for one of the server's own; secrets never survive the scrubber."""

from __future__ import annotations

import base64
import re
import string
import unicodedata
from urllib.parse import quote as urlquote
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs_mcp.gate import ActionResult, Change, render_action
from jobs_mcp.textsafe import SECRET_PIECE, Scrubber, one_line, quote

INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


@given(st.text(max_size=300))
def test_one_line_is_one_visible_line(text: str) -> None:
    flat = one_line(text, 120)
    assert len(flat) <= 120
    assert not any(unicodedata.category(c) in INVISIBLE_CATEGORIES for c in flat), repr(flat)


@given(st.text(max_size=200), st.text(max_size=200), st.text(max_size=100))
def test_remote_text_cannot_forge_a_server_line(name: str, value: str, key: str) -> None:
    result = ActionResult(
        sandbox=False,
        status="proposed",
        summary=f"Pause job {quote(name, 80)}",
        changes=[Change(field=f"config.{key}", before=value, after=value + "!")],
        next_step="Only on a clear yes.",
    )
    lines = render_action(result).splitlines()
    assert len(lines) == 3, lines  # heading, the change, the next step: remote text added no line
    assert lines[0].startswith('PROPOSED, not done yet: Pause job "')
    assert lines[1].startswith("  config.")  # the change, indented under the heading, whatever the key
    assert lines[2] == "Only on a clear yes."


@settings(deadline=None)
@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=16, max_size=40),
    st.text(max_size=40),
    st.sampled_from([str.upper, str.lower, str.title, lambda s: s]),
)
def test_the_scrubber_removes_a_token_in_any_case_and_any_long_piece(secret: str, noise: str, case) -> None:  # type: ignore[no-untyped-def]
    piece = secret[2:14]
    text = f"{noise} bad token {case(secret)}; echoed piece {case(piece)} {noise}"
    scrubber = Scrubber()
    scrubber.remember(secret)
    cleaned = scrubber.scrub(text)
    assert secret.lower() not in cleaned.lower() and piece.lower() not in cleaned.lower()


def _recovered(text: str) -> list[str]:
    """Everything an attacker could decode from ``text``: percent-decoding, and every run of hex or base64
    characters (standard or URL-safe) read at each starting position a quadruple or byte pair can have."""
    found = [text, unquote(text)]
    for run in re.findall(r"[0-9A-Fa-f]{2,}", text):
        found += [bytes.fromhex(run[i : i + (len(run) - i) // 2 * 2]).decode("latin-1") for i in (0, 1)]
    for run in re.findall(r"[A-Za-z0-9+/_-]{4,}", text):
        standard = run.replace("-", "+").replace("_", "/")
        for i in range(4):
            part = standard[i:]
            found.append(base64.b64decode(part[: len(part) // 4 * 4]).decode("latin-1"))
    return found


ENCODINGS = {
    "percent": lambda b: urlquote(b, safe=""),
    "percent-every-byte": lambda b: "".join(f"%{x:02x}" for x in b),
    "hex": bytes.hex,
    "HEX": lambda b: b.hex().upper(),
    "base64": lambda b: base64.b64encode(b).decode(),
    "base64-unpadded": lambda b: base64.b64encode(b).decode().rstrip("="),
    "base64url": lambda b: base64.urlsafe_b64encode(b).decode(),
    "base64url-unpadded": lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="),
}


@settings(deadline=None)
@given(
    st.text(alphabet=string.ascii_letters + string.digits + "-_.~+/=:", min_size=16, max_size=48),
    st.sampled_from(sorted(ENCODINGS)),
    st.text(alphabet=string.printable, max_size=5),
    st.text(alphabet=string.printable, max_size=5),
    st.text(alphabet=" :,{}\"'=&", max_size=8),
)
def test_the_scrubber_removes_a_token_echoed_encoded(
    secret: str, encoding: str, before: str, after: str, noise: str
) -> None:
    """A platform that echoes the token percent-encoded, as hex or as base64 (padded or not, standard or URL-safe,
    inside a longer encoded value such as ``user:token``) leaves nothing from which 12 of its characters decode."""
    blob = ENCODINGS[encoding](f"{before}{secret}{after}".encode())
    scrubber = Scrubber()
    scrubber.remember(secret)
    cleaned = scrubber.scrub(f"{noise}echoed {blob}{noise}")
    pieces = {secret[i : i + SECRET_PIECE].lower() for i in range(len(secret) - SECRET_PIECE + 1)}
    assert not any(p in text.lower() for text in _recovered(cleaned) for p in pieces), (blob, cleaned)
