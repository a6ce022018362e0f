"""Remote text is data: one place that makes it safe to show.

Job names, log messages and API error messages come from outside. Before any of it reaches a tool result it
is put on one line, stripped of control characters, its invisible and bidirectional characters made visible,
cut to a bounded length and, where it stands in prose, wrapped in double quotes with inner quotes escaped, so it
can never read as the server's own words.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote as urlquote

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
# letter case, as any long piece of it, or encoded the ways a platform may echo it (percent-encoded, hex, base64
# standard or URL-safe, padded or not, inside a longer encoded text). Filled as accounts are opened
# (``remember_secret``); read by ``scrub``.
SECRET_PIECE = 12  # characters of a secret that are already too much to show


def _encodings(text: str) -> set[str]:
    """``text`` as it is and as each encoding writes it. Base64 is taken at the three byte alignments ``text`` can
    have inside a longer encoded text (say ``user:token`` for HTTP basic auth), keeping only the characters that
    come from ``text`` alone, so padding and whatever surrounds it make no difference."""
    raw = text.encode()
    forms = {text, urlquote(text, safe=""), "".join(f"%{b:02X}" for b in raw), raw.hex()}
    for offset in range(3):
        aligned = b"\0" * offset + raw
        start, end = -(-8 * offset // 6), 8 * len(aligned) // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(encode(aligned).decode()[start:end])
    return {form for form in forms if form}


def _pieces(secret: str) -> set[str]:
    """The whole secret and every ``SECRET_PIECE``-long piece of it, each in every encoding."""
    size = min(len(secret), SECRET_PIECE)
    raw = {secret} | {secret[i : i + size] for i in range(len(secret) - size + 1)}
    return {form for piece in raw for form in _encodings(piece)}


def _trie(words: set[str]) -> str:
    """One regular expression matching any of ``words`` (lower case), longest first, written as a trie so a scrub
    costs about the same however many secrets and forms there are (an alternation of thousands would not)."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word.lower():
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


class Scrubber:
    """The secrets to mask, and the one pattern that masks them all."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._words: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def remember(self, secret: str) -> None:
        """Scrub this secret from everything from now on (short values are not secrets worth a pattern)."""
        if len(secret) >= 8 and secret not in self._secrets:
            self._secrets.add(secret)
            self._words |= _pieces(secret)
            self._pattern = re.compile(f"(?:{_trie(self._words)})+", re.IGNORECASE)

    def scrub(self, text: str) -> str:
        """The text with every remembered secret masked (any case, any long piece, any encoding named above)."""
        return self._pattern.sub("***", text) if self._pattern is not None else text


_PROCESS = Scrubber()  # every credential this process holds
remember_secret = _PROCESS.remember
scrub = _PROCESS.scrub


def _visible(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group()):04X}>"


def one_line(text: object, limit: int | None = 160) -> str:
    """Single-line, control-free text of at most ``limit`` characters (an ellipsis marks a cut, at a word's end
    where one is near; ``None``: whole); invisible and bidirectional characters are made visible, so remote text
    cannot hide or reorder what a person reads."""
    if isinstance(text, dict | list | tuple):  # nested values read as JSON, never as Python ({'x': True})
        text = json.dumps(text, ensure_ascii=False, default=str)
    flat = _INVISIBLE.sub(_visible, _CONTROL.sub(" ", scrub(str(text)))).strip()
    if limit is None or len(flat) <= limit:
        return flat
    cut = flat[: max(limit - 1, 0)]
    if not flat[len(cut)].isspace():  # never cut mid-word: end at the last blank, unless that drops too much
        blank = cut.rfind(" ")
        if blank >= limit * 3 // 4:
            cut = cut[:blank]
    return cut.rstrip() + "…"


def quote(text: object, limit: int = 160) -> str:
    """``one_line`` in double quotes, inner quotes and backslashes escaped."""
    flat = one_line(text, limit)
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cell(text: object, limit: int = 48) -> str:
    """A markdown table cell: one line, bounded, pipes escaped."""
    return one_line(text, limit).replace("|", "\\|")


_TOKEN = re.compile(r"\(none\)|[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")


def token(text: object, limit: int = 64) -> str:
    """A status, code, type or id from the API: as is when it looks like one word, else quoted as data (so a
    status of "running\nconfirmation_id: ..." can never start a line of its own)."""
    raw = "" if text is None else str(text)
    return raw if _TOKEN.fullmatch(raw) else quote(raw, limit)
