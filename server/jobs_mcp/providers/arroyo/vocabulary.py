"""What Arroyo's words mean: the controller's 14 job states, the stop modes, microsecond times, what of a
pipeline makes a proposal stale, and what to do about each family of job errors.

Arroyo has no error codes (every error body is ``{"error": "<message>"}``), so the advice that other platforms
key on codes lives in the not-found messages and in the write proposals' refusals here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from jobs_mcp.logvocabulary import LogVocabulary
from jobs_mcp.operations import StatusClass

NAME = "arroyo"

JobState = Literal[
    "Created",
    "Compiling",
    "Scheduling",
    "Running",
    "Rescaling",
    "CheckpointStopping",
    "Recovering",
    "Restarting",
    "Stopping",
    "Stopped",
    "Finishing",
    "Finished",
    "Failing",
    "Failed",
]
StopMode = Literal["checkpoint", "graceful", "immediate", "force"]

_STATE_CLASSES: dict[str, StatusClass] = {
    "created": "live",
    "compiling": "live",
    "scheduling": "live",
    "running": "live",
    "rescaling": "live",
    "restarting": "live",
    "finishing": "live",
    "recovering": "fault",  # a worker failed; the controller is retrying
    "checkpointstopping": "paused",
    "stopping": "paused",
    "stopped": "paused",  # stopped by a person; start brings it back
    "finished": "completed",  # bounded input done
    "failing": "failed",
    "failed": "failed",
}
TERMINAL = frozenset({"Stopped", "Finished", "Failed"})
# States in which a job's workers run, so its error log and metrics may be moving.
ACTIVE = frozenset({"Running", "Rescaling", "Recovering", "Restarting", "Scheduling", "Compiling"})

# What each stop mode does and what it may lose (Arroyo's StopMode, crates/arroyo-rpc api_types).
STOP_MODES: dict[str, str] = {
    "checkpoint": "Nothing is lost: a final checkpoint first, and start resumes from it. If that checkpoint hangs, "
    "stop again with immediate.",
    "graceful": "No final checkpoint: start resumes from the last one, so records since then are processed again "
    "(duplicates at sinks that are not exactly-once).",
    "immediate": "In-flight records and open windows are dropped (no checkpoint); start replays from the last "
    "checkpoint, so sinks may see duplicates.",
    "force": "Like immediate, but it kills the workers with no clean shutdown; open sink transactions may be left "
    "to time out. Last resort.",
}


def status_class(state: str) -> StatusClass:
    """What a job state means for health; a state this server has never seen is ``unknown``."""
    return _STATE_CLASSES.get(state.strip().lower(), "unknown")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_micros(value: Any) -> datetime | None:
    """An Arroyo timestamp (µs since the epoch) as a UTC time; None when it is missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(value))
    except OverflowError:
        return None


def parallelism_of(pipeline: dict[str, Any]) -> int | None:
    """The pipeline's parallelism: the widest operator of its graph (Arroyo sets all to the PATCHed value)."""
    nodes = (pipeline.get("graph") or {}).get("nodes") or []
    widths = [int(n["parallelism"]) for n in nodes if isinstance(n, dict) and isinstance(n.get("parallelism"), int)]
    return max(widths) if widths else None


def version(target: dict[str, Any]) -> Any:
    """What makes a proposal about a pipeline stale: its stop mode, parallelism and checkpoint interval, which
    job it runs and what that job's state means. Checkpoint epochs, times and a move between states of one
    class (Compiling -> Scheduling -> Running) are not a change."""
    job = target.get("job") or {}
    return [
        target.get("stop"),
        target.get("parallelism"),
        target.get("checkpoint_interval_micros"),
        job.get("id"),
        status_class(str(job.get("state", ""))),
    ]


# What to do about a family of job errors (the shared digest's families), naming this provider's tools.
LOG_HINTS = {
    "auth": "a connector lost access: fix the connection's credentials, then arroyo_restart_pipeline",
    "bad_request": "input the query cannot read (malformed or off-schema records): fix the producer or the "
    "table's format; arroyo_sample_output shows what arrives",
    "not_found": "a table, topic or connection the query names is gone: check it, then arroyo_restart_pipeline",
    "platform": "an Arroyo-side fault: arroyo_restart_pipeline once; if it repeats, escalate with these messages",
    "other": "read the samples: an external system (broker, database, sink) failing recovers once it is back; "
    "arroyo_get_operator_metrics shows whether the job is moving again",
}

LOG = LogVocabulary(hints=LOG_HINTS)
