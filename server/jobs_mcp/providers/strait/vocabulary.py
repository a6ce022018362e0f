"""What Strait's words mean: job states and run statuses as status classes, what to do after its errors, and
what of a job makes a proposal stale.

A Strait job has no status field: it is ``enabled`` or not and ``paused`` or not, so its status is made from
those two flags (``disabled``, ``paused``, ``enabled``). Runs carry one of fifteen statuses.
"""

from __future__ import annotations

from typing import Any

from jobs_mcp.logvocabulary import LogVocabulary
from jobs_mcp.operations import StatusClass

NAME = "strait"

_STATUS_CLASSES: dict[str, StatusClass] = {
    # a job's state
    "enabled": "live",
    "paused": "paused",
    "disabled": "paused",
    # a run's status
    "delayed": "live",
    "queued": "live",
    "dequeued": "live",
    "executing": "live",
    "waiting": "live",
    "replay_staged": "paused",
    "completed": "completed",
    "canceled": "completed",
    "failed": "failed",
    "timed_out": "failed",
    "crashed": "failed",
    "system_failed": "failed",
    "expired": "failed",
    "dead_letter": "failed",
}
ACTIVE_RUN_STATUSES = frozenset({"delayed", "queued", "dequeued", "executing", "waiting"})
TERMINAL_RUN_STATUSES = frozenset(
    {"completed", "failed", "timed_out", "crashed", "system_failed", "canceled", "expired", "dead_letter"}
)


def status_class(status: str) -> StatusClass:
    """What a job state or run status means; a word never seen before is "unknown"."""
    return _STATUS_CLASSES.get(status.strip().lower(), "unknown")


def job_status(job: dict[str, Any]) -> str:
    """A job's state from its flags: disabled wins over paused, which wins over enabled."""
    if job.get("enabled") is False:
        return "disabled"
    return "paused" if job.get("paused") else "enabled"


def version(job: dict[str, Any]) -> Any:
    """What makes a proposal about a job stale: its flags and its configuration version (every PATCH bumps it).
    Runs starting and finishing, ``updated_at`` and counters do not."""
    return [job.get("enabled"), job.get("paused"), job.get("version")]


# What to do next, by Strait error code (added to the API's own message).
ERROR_HINTS = {
    "forbidden": "Strait API keys carry scopes (jobs:read, jobs:write, jobs:trigger, runs:read, runs:write); "
    "this key lacks the one named above: ask an admin for a key that has it.",
    "not_found": "strait_list_jobs shows the job IDs, strait_list_runs the run IDs.",
    "validation_failed": "Fix the fields named in the details and propose it again.",
}

# Extra advice for exact Strait error messages (the code alone is too broad).
MESSAGE_HINTS = {
    "job is disabled": "Enable it first (strait_enable_jobs), then trigger it again.",
    "job is paused -- resume it before triggering new runs": "Resume it first (strait_resume_job), then trigger "
    "it again.",
    "run already in terminal state": "The run has finished; only queued, delayed or running runs can be cancelled.",
}
MESSAGE_PREFIX_HINTS = {
    "job has active runs": "Cancel them (strait_list_runs with status, then strait_cancel_run) or wait for them "
    "to finish, then delete again.",
    "job with slug": "Pick another slug, or strait_list_jobs with slug= to find the existing job.",
}

# What to do about a family of run errors, naming this provider's tools.
LOG_HINTS = {
    "auth": "the job's endpoint rejected Strait's credentials or the job lost access: fix the endpoint's secrets, "
    "then strait_trigger_job",
    "bad_request": "the payload or the job's settings are wrong: check them with strait_get_job and fix them with "
    "strait_update_job",
    "rate_limit": "the endpoint is throttling: lower max_concurrency or the cron rate with strait_update_job",
    "platform": "the endpoint or a worker is failing: check the endpoint; strait_list_job_versions shows whether a "
    "recent change caused it",
    "other": "read the sample messages and strait_get_job_health; compare with strait_list_job_versions",
}

LOG = LogVocabulary(generic_codes=frozenset({"log"}), hints=LOG_HINTS)
