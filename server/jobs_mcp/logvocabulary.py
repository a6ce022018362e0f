"""What a platform's log says, declared once per provider (``Provider.log``) and read by the digests: which
counters its entries carry, what a success line is, how a code is read out of a message whose own code names no
cause, and what to do about each family of errors in the platform's own tools' words.

A platform that declares no counters gets no counter line; one that declares no success line gets no "last
success" line: a digest never speaks of what the platform's log does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# Codes read out of a message, first match wins: an AWS-style denial, an HTTP status, a timeout.
_MESSAGE_CODES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"access ?denied|permission denied|not authori[sz]ed", re.IGNORECASE), "ACCESS_DENIED"),
    (re.compile(r"\b(?:HTTP|status(?: code)?|returned|responded(?: with)?)[ /:=]*([1-5]\d\d)\b", re.IGNORECASE), ""),
    (re.compile(r"\b([45]\d\d) (?:Forbidden|Unauthorized|Not Found|Too Many Requests|Bad Request|Internal)"), ""),
    (re.compile(r"timed? ?out|deadline exceeded", re.IGNORECASE), "TIMEOUT"),
)
_STATUS_WORDS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    408: "TIMEOUT",
    409: "CONFLICT",
    422: "INVALID",
    429: "RATE_LIMITED",
    500: "INTERNAL",
    502: "BAD_GATEWAY",
    503: "UNAVAILABLE",
    504: "TIMEOUT",
}


def code_in_message(message: str) -> str | None:
    """The code a message names (``ACCESS_DENIED``, ``HTTP_403_FORBIDDEN``, ``TIMEOUT``), or None."""
    for pattern, code in _MESSAGE_CODES:
        found = pattern.search(message)
        if found is None:
            continue
        if code:
            return code
        status = int(found.group(1))
        return f"HTTP_{status}" + (f"_{_STATUS_WORDS[status]}" if status in _STATUS_WORDS else "")
    return None


@dataclass(frozen=True)
class LogVocabulary:
    counters: tuple[str, ...] = ()  # numbers in an entry's ``context`` the digest totals (Lytics: added, ...)
    success: str = ""  # what the digest calls the newest success line ("last data moved"); "": no such line
    success_words: tuple[str, ...] = ()  # an info message holding one (lower case) is a success line
    generic_codes: frozenset[str] = frozenset()  # codes that name no cause (Strait's "log"): read the message
    hints: Mapping[str, str] = field(default_factory=dict)  # digest family -> what to do, naming our tools

    def code_of(self, code: str, message: object) -> str:
        """The code an error is grouped by: its own, or for a generic one the code its message names."""
        if code in self.generic_codes and isinstance(message, str):
            return code_in_message(message) or code
        return code
