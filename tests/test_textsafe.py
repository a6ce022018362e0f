"""Remote text is data: whatever a platform sends (names, messages, config keys), a rendered proposal keeps its
shape, and no line of it can pass for one of the server's own; secrets never survive the scrubber."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs_mcp.gate import ActionResult, Change, render_action
from jobs_mcp.textsafe import one_line, quote, remember_secret, scrub

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


@settings(max_examples=40)  # each example remembers one more secret for the rest of the process
@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=16, max_size=40),
    st.text(max_size=40),
    st.sampled_from([str.upper, str.lower, str.title, lambda s: s]),
)
def test_the_scrubber_removes_a_token_in_any_case_and_any_long_piece(secret: str, noise: str, case) -> None:  # type: ignore[no-untyped-def]
    piece = secret[2:14]
    text = f"{noise} bad token {case(secret)}; echoed piece {case(piece)} {noise}"
    remember_secret(secret)
    cleaned = scrub(text)
    assert secret.lower() not in cleaned.lower() and piece.lower() not in cleaned.lower()
