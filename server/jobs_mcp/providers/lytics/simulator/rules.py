"""The Lytics job rules the simulator enforces: payload checks, list visibility, lifecycle transitions.

Pure functions over job dicts; a broken rule raises ``LyticsError`` (the app turns it into the v2 error body).

Known from Lytics' documentation: create needs ``name`` and ``config``; unknown workflows and auth providers are
refused; PUT replaces the whole job (omitted fields are reset; ``monitoring`` left out is kept, null clears it);
the list hides completed, deleted and hidden jobs by default, and deleted ones need ``show_all`` or
``show_deleted`` together with ``show_completed``; kill is a soft delete with no way back; ``updated`` moves
only when the configuration is edited. Simulator choices (not documented anywhere public):
- the exact checks on quiet-window fields and their error messages;
- ``?run_job=false`` creates the job ``paused``; otherwise it is ``initializing`` in the create answer and
  ``running`` from the next read on; resume and bounce answer ``running`` at once;
- which statuses each action refuses (the table below) and the wording of the refusals;
- ``release`` answers 200 with the job unchanged (no public source says what it does); like every other action
  it is refused on a deleted job;
- the config checks against the workflow's field definitions (themselves invented, see seed.py): the first
  field that is unknown, missing while required, of the wrong type or not among its options is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from jobs_mcp.providers.lytics.simulator.envelope import (
    AUTH_NOTFOUND,
    JOB_BADREQ,
    WF_NOTFOUND,
    LyticsError,
    parse_rfc3339,
)
from jobs_mcp.providers.lytics.simulator.seed import JOB_DEFAULTS

FAULT_N = re.compile(r"^fault-\d+$")
LIST_FLAGS = ("show_completed", "show_deleted", "show_hidden", "show_all", "show_state")
_TRUE, _FALSE = {"1", "t", "true", "yes"}, {"", "0", "f", "false", "no"}
_QUIET_TIME = re.compile(r"^(\d{1,2}):([0-5]\d)\s*([ap]m)?$", re.IGNORECASE)


def bad(message: str, code: str = JOB_BADREQ) -> LyticsError:
    return LyticsError(400, code, message)


def parse_flag(name: str, raw: str | None, default: bool = False) -> bool:
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise bad(f"query parameter {name} must be true or false, not {raw!r}", "BADREQ-001")


def snake(workflow: str) -> str:
    return workflow.strip().lower().replace("-", "_")


def is_deleted(job: Mapping[str, Any]) -> bool:
    return bool(job.get("deleted")) or job.get("status") in ("deleted", "deleting")


def visible(job: Mapping[str, Any], flags: Mapping[str, bool]) -> bool:
    """Whether GET /v2/job lists the job under these show_* flags."""
    if flags.get("show_all"):
        return True
    if is_deleted(job) and not (flags.get("show_deleted") and flags.get("show_completed")):
        return False  # the documented quirk: show_deleted alone shows nothing more
    if job.get("status") == "completed" and not flags.get("show_completed"):
        return False
    return not (job.get("hidden") and not flags.get("show_hidden"))


# --- payloads ------------------------------------------------------------------------------------------------


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _quiet_time(value: Any) -> str:
    text = _string(value).strip()
    match = _QUIET_TIME.match(text)
    if text and not (match and int(match[1]) < (13 if match[3] else 24)):
        raise ValueError("must be a time of day such as 02:00 or 2:00pm")
    return text


def _timezone(value: Any) -> str:
    text = _string(value)
    if text:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as America/New_York") from None
    return text


def _hours(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24:
        raise ValueError("must be a whole number of hours from 0 to 24")
    return value


def _moment(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        parse_rfc3339(_string(value))
    except ValueError:
        raise ValueError("must be an RFC 3339 time such as 2027-01-31T00:00:00Z") from None
    return str(value)


OPTIONAL_FIELDS: dict[str, Callable[[Any], Any]] = {
    "description": _string,
    "tag": _string,
    "hidden": _boolean,
    "verbose_logging": _boolean,
    "drop_events_during_quiet_window": _boolean,
    "quiet_time_of_day": _quiet_time,
    "quiet_timezone": _timezone,
    "quiet_period": _hours,
    "expires_at": _moment,
    "meta": lambda value: value,
}
assert set(OPTIONAL_FIELDS) == set(JOB_DEFAULTS)


class Payload(NamedTuple):
    """A checked create or update body: every writable field, defaults filled in for what was left out."""

    name: str
    config: dict[str, Any]
    auth_ids: list[str]
    fields: dict[str, Any]  # the OPTIONAL_FIELDS, each given or reset to its default
    monitoring: tuple[bool, Any]  # (given?, value): monitoring left out keeps the stored one


def check_payload(
    body: Mapping[str, Any],
    workflow: str,
    workflows: Mapping[str, Mapping[str, Any]],
    auths: Mapping[str, Mapping[str, Any]],
) -> Payload:
    if workflow not in workflows:
        raise bad(f"workflow {workflow!r} does not exist", WF_NOTFOUND)
    name, config = body.get("name"), body.get("config")
    if not isinstance(name, str) or not name.strip():
        raise bad("name is required")
    if not isinstance(config, dict):
        raise bad("config is required and must be a JSON object")
    auth_ids = body.get("auth_ids") or []
    if not isinstance(auth_ids, list) or not all(isinstance(a, str) for a in auth_ids):
        raise bad("auth_ids must be a list of auth provider ids")
    missing = [a for a in auth_ids if a not in auths]
    if missing:
        raise bad(f"auth provider {', '.join(missing)} not found", AUTH_NOTFOUND)
    if workflows[workflow].get("requires_auth") and not auth_ids:
        raise bad(f"workflow {workflow} requires an auth provider: give its id in auth_ids", AUTH_NOTFOUND)
    fields = {}
    for key, check in OPTIONAL_FIELDS.items():
        value = body.get(key)
        try:
            fields[key] = JOB_DEFAULTS[key] if value is None else check(value)
        except ValueError as exc:
            raise bad(f"{key} {exc}") from None
    monitoring = body.get("monitoring")
    if monitoring is not None and not isinstance(monitoring, dict):
        raise bad("monitoring must be a JSON object or null")
    if problem := config_problem(config, workflows[workflow].get("fields") or []):
        raise bad(f"config: {problem}")
    return Payload(name.strip(), config, list(auth_ids), fields, ("monitoring" in body, monitoring))


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def config_problem(config: Mapping[str, Any], fields: list[dict[str, Any]]) -> str | None:
    """The first way ``config`` breaks the workflow's field definitions (the simulator's own words)."""
    declared = {f["name"]: f for f in fields}
    for key, value in config.items():
        field = declared.get(key)
        if field is None:
            return f"unknown field {key!r}"
        if not _JSON_TYPES.get(field["type"], lambda _v: True)(value):
            return f"field {key!r} must be of type {field['type']}"
        options = field.get("options")
        if options and any(v not in options for v in (value if isinstance(value, list) else [value])):
            return f"field {key!r} must be one of {options}"
    missing = [f["name"] for f in fields if f.get("required") and f["name"] not in config]
    return f"missing required field {missing[0]!r}" if missing else None


# --- lifecycle ----------------------------------------------------------------------------------------------


def _live(status: str) -> bool:
    return status in ("running", "sleeping", "initializing") or bool(FAULT_N.match(status))


class Action(NamedTuple):
    allowed: Callable[[str], bool]
    becomes: str | None  # None: the status stays
    done: str  # past tense for the log entry


ACTIONS: dict[str, Action] = {
    "pause": Action(_live, "paused", "paused"),
    "resume": Action(lambda s: s in ("paused", "failed"), "running", "resumed"),
    "bounce": Action(_live, "running", "restarted (bounced)"),
    "kill": Action(lambda s: s not in ("deleted", "deleting"), "deleted", "killed"),
    "release": Action(lambda s: s not in ("deleted", "deleting"), None, "released"),
}


def apply_action(name: str, job: dict[str, Any], work: dict[str, Any]) -> None:
    """Move the job (in place) as ``name`` does, or raise the 400 the API gives for this status."""
    action = ACTIONS[name]
    status = str(job.get("status", "unknown"))
    if not action.allowed(status):
        if status == action.becomes:
            raise bad(f"job is already {status}")
        raise bad(f"cannot {name} job {job['id']}: its status is {status}")
    if action.becomes is not None:
        job["status"] = action.becomes
    if name == "kill":
        job["deleted"] = True
    if name in ("bounce", "resume"):
        work["state"] = {**work.get("state", {}), "consecutive_errors": 0}
        work["sleep_until"] = None
    work.pop("settle", None)
