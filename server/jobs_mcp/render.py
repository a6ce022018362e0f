"""Compact text for tool results: small markdown tables and short timestamps.

The text is what the model reads on every turn (and what a person sees), so it carries the facts and nothing
else; the full data is in the structured content.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from jobs_mcp.textsafe import cell


def when_of(value: object) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime in its own offset (UTC when it names none), or None when it is
    missing or unreadable. The log digests compare these as they come (no conversion per entry)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp as an aware UTC datetime, or None when it is missing or unreadable."""
    when = when_of(value)
    return when.astimezone(UTC) if when is not None else None


def short_time(value: object) -> str:
    """``YYYY-MM-DD HH:MM`` (UTC) for a timestamp; the raw value, bounded, when it cannot be read."""
    parsed = value if isinstance(value, datetime) else parse_time(value)
    if parsed is None:
        return cell(value, 25) if value else "-"
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def age(then: datetime | None, now: datetime) -> str:
    """A rough human age such as ``26 h`` or ``3 d``."""
    if then is None:
        return "never"
    seconds = max((now - then).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 72 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table; every cell is remote-safe (one line, bounded, pipes escaped)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) if v not in (None, "") else "-" for v in row) + " |" for row in rows]
    return "\n".join(lines)
