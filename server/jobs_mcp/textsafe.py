"""Remote text is data: one place that makes it safe to show.

Job names, log messages and API error messages come from outside. Before any of it reaches a tool result it
is put on one line, stripped of control characters, its invisible and bidirectional characters made visible,
cut to a bounded length and, where it stands in prose, wrapped in double quotes with inner quotes escaped, so it
can never read as the server's own words.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]+")
# Characters that change what text looks like without being seen: every Unicode format character (zero-width,
# joiners, soft hyphens, byte-order marks, tags and the bidirectional controls that can make a line read
# backwards) and the blank Hangul fillers. Shown as visible escapes such as <U+202E>.
_INVISIBLE = re.compile(
    "["
    # Unicode format characters (Cf):
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\u115f\u1160\u3164"  # Hangul fillers: letters that show nothing
    "]"
)


# Every credential this process holds (platform tokens): no text that leaves the server may contain one, in any
# letter case or as any long piece of it. Filled as accounts are opened; read by ``scrub``.
_SECRETS: set[str] = set()
_SECRET_PATTERN: list[re.Pattern[str] | None] = [None]
SECRET_PIECE = 12  # characters of a secret that are already too much to show


def remember_secret(secret: str) -> None:
    """Scrub this secret from everything from now on (short values are not secrets worth a pattern)."""
    if len(secret) >= 8 and secret not in _SECRETS:
        _SECRETS.add(secret)
        pieces = {
            s[i : i + min(len(s), SECRET_PIECE)] for s in _SECRETS for i in range(max(len(s) - SECRET_PIECE, 0) + 1)
        }
        _SECRET_PATTERN[0] = re.compile(
            "(?:" + "|".join(map(re.escape, sorted(pieces, key=len, reverse=True))) + ")+", re.IGNORECASE
        )


def scrub(text: str) -> str:
    """The text with every remembered secret masked (any case, any long piece)."""
    pattern = _SECRET_PATTERN[0]
    return pattern.sub("***", text) if pattern is not None else text


def _visible(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group()):04X}>"


def one_line(text: object, limit: int = 160) -> str:
    """Single-line, control-free text of at most ``limit`` characters (an ellipsis marks a cut); invisible and
    bidirectional characters are made visible, so remote text cannot hide or reorder what a person reads."""
    flat = _INVISIBLE.sub(_visible, _CONTROL.sub(" ", scrub(str(text)))).strip()
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip() + "…"


def quote(text: object, limit: int = 160) -> str:
    """``one_line`` in double quotes, inner quotes and backslashes escaped."""
    flat = one_line(text, limit)
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cell(text: object, limit: int = 48) -> str:
    """A markdown table cell: one line, bounded, pipes escaped."""
    return one_line(text, limit).replace("|", "\\|")
