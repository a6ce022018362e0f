"""Remote text is data: one place that makes it safe to show.

Job names, log messages and API error messages come from outside. Before any of it reaches a tool result it
is put on one line, stripped of control characters, cut to a bounded length and, where it stands in prose,
wrapped in double quotes with inner quotes escaped, so it can never read as the server's own words.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: object, limit: int = 160) -> str:
    """Single-line, control-free text of at most ``limit`` characters (an ellipsis marks a cut)."""
    flat = _CONTROL.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip() + "…"


def quote(text: object, limit: int = 160) -> str:
    """``one_line`` in double quotes, inner quotes and backslashes escaped."""
    flat = one_line(text, limit)
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cell(text: object, limit: int = 48) -> str:
    """A markdown table cell: one line, bounded, pipes escaped."""
    return one_line(text, limit).replace("|", "\\|")
