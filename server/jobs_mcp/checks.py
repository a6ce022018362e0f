"""Checks of values that platforms refuse for knowable reasons, run when a write is proposed (never after a person
said yes): an IANA time zone, a five-field cron expression, an endpoint URL a platform will call. Each raises
``ValueError`` with the words a model reads after the field's name (pydantic ``AfterValidator``s)."""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from urllib.parse import urlsplit

ZONE_EXAMPLES = "such as America/Los_Angeles, Europe/Berlin or UTC"


@cache
def _zones() -> frozenset[str]:
    from zoneinfo import available_timezones  # reads the zone database: only when a zone is first checked

    return frozenset(available_timezones())


def iana_zone(zone: str) -> str:
    if zone not in _zones():
        raise ValueError(f"is not an IANA time zone; give one {ZONE_EXAMPLES}")
    return zone


# One cron field: "*", a number, a name (months, days), a range, a list, each with an optional "/step".
_NAMES = {
    3: ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    4: ("sun", "mon", "tue", "wed", "thu", "fri", "sat"),
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_PART = re.compile(r"(\*|[a-z0-9]+(-[a-z0-9]+)?)(/(\d+))?")
FIELDS = "minute hour day-of-month month day-of-week"


def _value(text: str, position: int) -> int:
    if text.isdigit():
        return int(text)
    names = _NAMES.get(position, ())
    if text in names:
        return names.index(text) + (1 if position == 3 else 0)
    raise ValueError(text)


def _field_ok(field: str, position: int) -> bool:
    low, high = _RANGES[position]
    for part in field.lower().split(","):
        match = _PART.fullmatch(part)
        if match is None or match[4] == "0":
            return False
        if match[1] == "*":
            continue
        try:
            ends = [_value(v, position) for v in match[1].split("-")]
        except ValueError:
            return False
        if not all(low <= v <= high for v in ends) or ends[0] > ends[-1]:
            return False
    return True


def cron_expression(expr: str) -> str:
    """A standard five-field cron expression (what Strait and most schedulers take)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"is not a cron expression: it needs exactly 5 fields ({FIELDS}), e.g. '0 12 * * *' for every day at "
            f"noon; it has {len(fields)}"
        )
    wrong = [
        name for i, (name, field) in enumerate(zip(FIELDS.split(), fields, strict=True)) if not _field_ok(field, i)
    ]
    if wrong:
        raise ValueError(
            f"is not a valid cron expression: its {' and '.join(wrong)} field is out of range or malformed"
        )
    return expr


def public_url(url: str) -> str:
    """An http(s) URL with a host that is not private or loopback (a platform calls it from its own network)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host, e.g. https://example.com/run")
    try:
        address = ipaddress.ip_address(parts.hostname.strip("[]"))
    except ValueError:
        return url
    if address.is_loopback or address.is_private or address.is_link_local:
        raise ValueError("must not point to a private or loopback address: the platform calls it from outside")
    return url
