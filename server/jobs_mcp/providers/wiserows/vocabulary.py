"""What WiseRows' words mean: job statuses, error codes, and its log entries in the digest's common form.

Real (WiseRows' Jobs API page): statuses pending, running, completed, failed, cancelled; categories seo, ai, sync,
export; log entries ``{timestamp (ms), level info|warn|error, message}``. The log has no error codes and no record
counters, so the code an entry is grouped by is read from its message (see ``log_code``); the error codes of
the API itself (``FORBIDDEN``, ...) are the simulator's invention, as is the envelope.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from jobs_mcp.logvocabulary import LogVocabulary
from jobs_mcp.operations import StatusClass

NAME = "wiserows"
STATUSES = ("pending", "running", "completed", "failed", "cancelled")
CATEGORIES = ("seo", "ai", "sync", "export")
CANCELLABLE = frozenset({"pending", "running"})

# A cancelled job was stopped on purpose and keeps the work it finished: it is over and not broken, so it counts
# as "completed" — not "failed" (a health check would raise an alarm), "deleted" (it is still there) or
# "paused" (it cannot be resumed).
_STATUS_CLASSES: dict[str, StatusClass] = {
    "pending": "live",
    "running": "live",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "completed",
}


def status_class(status: str) -> StatusClass:
    return _STATUS_CLASSES.get(status.strip().lower(), "unknown")


def version(job: dict[str, Any]) -> Any:
    """What makes a proposal about a job stale: what its status means (never its progress counts, which climb
    while it runs, nor pending -> running)."""
    return status_class(str(job.get("status", "")))


def ms_time(value: Any) -> str | None:
    """Epoch milliseconds as an RFC 3339 time; None when absent or unreadable."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC).isoformat(timespec="milliseconds")
    except (OverflowError, OSError, ValueError):
        return None


# --- log entries -----------------------------------------------------------------------------------------

# "Row 12/164 'label': text" — an entry about one item of the job (the label may hold quotes)
_ITEM = re.compile(r"^\S+ \d+/\d+ '.*?': (?P<text>.*)$", re.DOTALL)
_SERVICE_STATUS = re.compile(r"\b(?P<service>[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*) API (?P<status>[1-5]\d\d)\b")
_HTTP_STATUS = re.compile(r"\bHTTP (?P<status>[1-5]\d\d)\b")
# The HTTP status as a word the digest's families recognise (auth, rate limit, bad request, not found, platform).
_STATUS_WORDS = {400: "BADREQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOTFOUND", 422: "INVALID"}


def _status_word(status: int) -> str:
    if status == 429:
        return "RATELIMIT"
    return _STATUS_WORDS.get(status, "INTERNAL" if status >= 500 else "HTTP")


def log_code(message: str, level: str) -> str:
    """What an error or warning is grouped by: the third-party service and HTTP status it reports
    (``WEBFLOW_401_UNAUTHORIZED``), ``HTTP_404_NOTFOUND`` for a fetched page or link, ``TIMEOUT``; otherwise
    ``ITEM`` (about one item of the job) or ``JOB`` (about the whole job). Info entries get no code."""
    if level not in ("warn", "warning", "error"):
        return ""
    item = _ITEM.match(message)
    text = item["text"] if item else message
    if found := _SERVICE_STATUS.search(text):
        service = "_".join(found["service"].upper().split())
        status = int(found["status"])
        return f"{service}_{status}_{_status_word(status)}"
    if found := _HTTP_STATUS.search(text):
        status = int(found["status"])
        return f"HTTP_{status}_{_status_word(status)}"
    if "timed out" in text.lower():
        return "TIMEOUT"
    return "ITEM" if item else "JOB"


def log_entry(raw: Any) -> Any:
    """A WiseRows log entry in the digest's common form (anything unreadable is passed on, and counted as such)."""
    if not isinstance(raw, dict):
        return raw
    message = str(raw.get("message") or "")
    level = str(raw.get("level") or "").lower()
    return {
        "timestamp": ms_time(raw.get("timestamp")),
        "level": level,
        "code": log_code(message, level),
        "message": message,
    }


# What to do about a family of log errors. WiseRows' API has no way to start a job again: that is done in the app.
LOG_HINTS = {
    "auth": "the connected service's access was revoked or expired: reconnect it in WiseRows (Settings -> "
    "Integrations), then run the job again in WiseRows",
    "rate_limit": "the service throttled WiseRows, which retries by itself; a job that failed on a quota needs "
    "the quota raised (or time), then a new run in WiseRows",
    "bad_request": "the service refused an item's data or the target's settings: fix the items named in the "
    "entries, then run the job again in WiseRows",
    "not_found": "a page, link or record the job points at is gone: check the items named in the entries",
    "platform": "a service-side fault: run the job again later in WiseRows; if it persists, contact that service",
}

LOG = LogVocabulary(generic_codes=frozenset({"JOB", "ITEM"}), hints=LOG_HINTS)

# What to do next, by API error code (the codes are the simulator's invention; see the provider's docstring).
ERROR_HINTS = {
    "FORBIDDEN": "WiseRows keys have one of three levels, read < write < admin: a read key only lists and reads "
    "jobs; cancelling needs a write or admin key (WISEROWS_API_TOKEN).",
    "NOT_FOUND": "wiserows_list_jobs shows the jobs.",
    "JOB_NOT_CANCELLABLE": "The job already ended; wiserows_get_job shows how.",
}
