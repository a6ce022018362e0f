"""What Lytics' words mean: its status vocabulary, what to do after its error codes and log families, and what
of a job makes a proposal stale.

The live API reports statuses such as ``running``, ``sleeping`` and ``fault-3``; older documents say
``runnable``, ``fault`` and ``killed``. Both vocabularies are understood; a status never seen before is shown as
the API sent it and means "unknown".
"""

from __future__ import annotations

import re
from typing import Any

from jobs_mcp.logvocabulary import LogVocabulary
from jobs_mcp.operations import StatusClass

NAME = "lytics"

_STATUS_CLASSES: dict[str, StatusClass] = {
    "running": "live",
    "runnable": "live",
    "sleeping": "live",
    "initializing": "live",
    "pausing": "paused",
    "paused": "paused",
    "fault": "fault",
    "errorwait": "fault",
    "failed": "failed",
    "completed": "completed",
    "deleted": "deleted",
    "deleting": "deleted",
    "killed": "deleted",
}
_FAULT_N = re.compile(r"^fault-\d+$")
# Sleeping jobs wait for their next run, so only these are expected to be writing to their log right now.
ACTIVE_STATUSES = frozenset({"running", "runnable", "initializing"})


def status_class(status: str) -> StatusClass:
    """What a status means for health: ``fault-7`` is a fault, ``runnable`` is live, anything new is unknown."""
    normal = status.strip().lower()
    if _FAULT_N.match(normal):
        return "fault"
    return _STATUS_CLASSES.get(normal, "unknown")


def version(job: dict[str, Any]) -> Any:
    """What makes a proposal about a job stale: its configuration (``updated`` changes on every edit) and what
    its status means. A live job moving between ``running`` and ``sleeping`` is not a change."""
    return [job.get("updated"), status_class(str(job.get("status", ""))), bool(job.get("deleted"))]


# What to do next, by Lytics error code (added to the API's own message).
ERROR_HINTS = {
    "AUTH-NOTFOUND-006": "An auth provider must exist first: connect the destination in Lytics, then pass its ID "
    "in auth_ids.",
    "WF-NOTFOUND-005": "lytics_list_workflows shows the valid workflows.",
    "JOB-NOTFOUND-004": "lytics_list_jobs shows the jobs (show_all=true includes killed ones).",
}

# What to do about a family of log errors, naming this provider's tools.
LOG_HINTS = {
    "auth": "credentials expired or lost access: reconnect the auth provider, then lytics_resume_job or "
    "lytics_bounce_job",
    "bad_request": "the job's config or payload is wrong: check it with lytics_get_job and fix it with "
    "lytics_update_job",
    "platform": "a platform-side fault: lytics_bounce_job once; if it persists, escalate to Lytics support",
}

LOG = LogVocabulary(counters=("added", "omitted", "removed"), success="last data moved", hints=LOG_HINTS)
