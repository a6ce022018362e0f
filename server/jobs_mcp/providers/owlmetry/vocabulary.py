"""What OwlMetry's words mean: its job types, run statuses, error messages and what makes a proposal stale.

Real (owlmetry/owlmetry@e9b6cab, ``packages/shared/src/jobs.ts``, ``routes/jobs.ts``): the 18 job types and their
scope — only the two ``project`` types can be triggered through the API, the ``system`` ones run on their own
schedule —, the run statuses ``pending -> running -> completed | failed | cancelled``, and the error bodies
``{"error": "<message>"}`` (``existing_run_id`` beside it on a 409). The API sends no error codes, so the codes
used for hints here are named after the message they stand for.
"""

from __future__ import annotations

from typing import Any

from jobs_mcp.operations import StatusClass

NAME = "owlmetry"

JOB_TYPES: dict[str, str] = {  # job type -> scope, in the order the API lists them
    "db_pruning": "system",
    "soft_delete_cleanup": "system",
    "partition_creation": "system",
    "revenuecat_sync": "system",
    "revenuecat_user_backfill": "project",
    "retention_cleanup": "system",
    "issue_scan": "system",
    "issue_notify": "system",
    "attachment_cleanup": "system",
    "apple_ads_sync": "project",
    "app_version_sync": "system",
    "app_store_ratings_sync": "system",
    "app_store_connect_reviews_sync": "system",
    "notification_deliver": "system",
    "notification_cleanup": "system",
    "questionnaire_draft_cleanup": "system",
    "stats_aggregate_daily": "system",
    "stats_aggregate_hourly": "system",
}
TRIGGERABLE = tuple(t for t, scope in JOB_TYPES.items() if scope != "system")
STATUSES = ("pending", "running", "completed", "failed", "cancelled")

# A cancelled run was stopped on purpose and ended cleanly (the handler returned its partial result): it is over
# and nothing is wrong with it, so it counts as "completed", not "failed" (which would raise an alarm in a health
# check) nor "deleted" (the run is still there) nor "paused" (it cannot be resumed).
_STATUS_CLASSES: dict[str, StatusClass] = {
    "pending": "live",
    "running": "live",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "completed",
}


def status_class(status: str) -> StatusClass:
    return _STATUS_CLASSES.get(status.strip().lower(), "unknown")


def version(target: dict[str, Any]) -> Any:
    """What makes a proposal stale: what the status of its target means. Progress moves all the time, and
    pending -> running is a run doing what it was asked; only its ending (or a status never seen) counts. A
    trigger's target carries the status of the job type's active run (``none`` when idle): a run of the type that
    starts before the person confirms makes the trigger stale."""
    return status_class(str(target.get("status", "")))


# The API's error messages (prefixes) -> the code the hints below are keyed by.
ERROR_CODES = (
    ("Missing permission", "missing_permission"),
    ("Requires admin role", "admin_required"),
    ("Not a member of this team", "not_team_member"),
    ("A job of this type is already running", "already_running"),
    ("Cannot cancel a job with status", "not_cancellable"),
    ("Job is not currently running on this server", "not_on_this_server"),
    ("Project not found", "project_not_found"),
    ("project_id is required", "project_required"),
    ("Cannot trigger system job", "system_job"),
    ("Invalid job_type", "invalid_job_type"),
    ("invalid input syntax for type uuid", "invalid_uuid"),
)


def error_detail(body: Any) -> tuple[str, str]:
    """(code, message) of an OwlMetry error: the route's ``{"error": "..."}`` or Fastify's own
    ``{"statusCode", "error": "<phrase>", "message"}``. A 409 names the run in the way."""
    if not isinstance(body, dict):
        return "", ""
    error, message = body.get("error"), body.get("message")
    text = str(message) if isinstance(message, str) and message else str(error or "")
    code = next((c for prefix, c in ERROR_CODES if text.startswith(prefix)), "")
    if body.get("existing_run_id"):
        text = f"Already running: run {body['existing_run_id']}. {text}"
    return code, text


def unwrap(body: Any) -> Any:
    """``{job_run}`` -> the run, ``{job_runs, cursor, has_more}`` -> the runs; anything else as it is."""
    if isinstance(body, dict):
        for key in ("job_run", "job_runs"):
            if key in body:
                return body[key]
    return body


def next_cursor(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("has_more") and body.get("cursor"):
        return str(body["cursor"])
    return None


_KEYS = "only agent keys (owl_agent_…) can hold them; give the key that permission in the team's API key settings"
ERROR_HINTS = {
    "missing_permission": "Listing and reading runs needs jobs:read, triggering and cancelling needs jobs:write; "
    f"{_KEYS}.",
    "admin_required": "This user token is below admin in the team: listing and triggering runs need the admin or "
    "owner role (reading and cancelling one run only needs membership). Ask a team owner, or use an agent key "
    "with jobs:read / jobs:write.",
    "not_team_member": "The token does not belong to the configured team: check OWLMETRY_TEAM_ID (or team_id in "
    "the accounts file).",
    "already_running": "Nothing new was started, and this is not an error to retry: follow that run with "
    "owlmetry_get_job_run, and trigger again only after it has ended.",
    "not_cancellable": "Only a running run can be cancelled; owlmetry_get_job_run shows its status now.",
    "project_not_found": "project_id must be a project of this team; owlmetry_list_job_runs shows the projects of "
    "past runs.",
    "invalid_uuid": "OwlMetry IDs are UUIDs, as owlmetry_list_job_runs prints them.",
}
