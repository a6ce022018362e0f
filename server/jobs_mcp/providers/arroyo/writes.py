"""Arroyo: creating pipelines and controlling them, through the gate.

Arroyo has no job control routes: a pipeline is stopped, started and rescaled by ``PATCH /pipelines/{id}``
(``stop`` / ``parallelism``), restarted by ``POST /pipelines/{id}/restart`` and deleted by ``DELETE``. The control
actions share one shape and are declared as data (``CONTROLS``), made into operations by one function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from jobs_mcp.gate import ActionResult
from jobs_mcp.operations import (
    Call,
    Change,
    Effect,
    Endpoint,
    Operation,
    OperationInput,
    Plan,
    Risk,
    WriteSpec,
    segment,
)
from jobs_mcp.providers.arroyo.flow import query_errors
from jobs_mcp.providers.arroyo.reads import PIPELINE_NOT_FOUND, PipelineArgs
from jobs_mcp.providers.arroyo.vocabulary import (
    NAME,
    STOP_MODES,
    TERMINAL,
    StopMode,
    parallelism_of,
)
from jobs_mcp.textsafe import one_line, quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

PIPELINE_PATH = "/api/v1/pipelines/{pipeline_id}"

# --- arguments -------------------------------------------------------------------------------------------------

Parallelism = Field(ge=1, le=1024, description="subtasks per operator")


class CreateArgs(OperationInput):
    name: str = Field(min_length=1, max_length=200, description="pipeline name")
    query: str = Field(min_length=1, max_length=20000, description="Arroyo SQL (checked before proposing)")
    parallelism: int = Parallelism
    checkpoint_interval_seconds: int | None = Field(None, ge=1, le=86400, description="default: Arroyo's (10 s)")


class StopArgs(PipelineArgs):
    mode: StopMode = Field("checkpoint", description="checkpoint (nothing lost), graceful, immediate or force")


class RestartArgs(PipelineArgs):
    force: bool = Field(False, description="restart without waiting for a clean shutdown")
    ignore_state: bool = Field(False, description="start fresh, without checkpointed state (job must be stopped)")


class RescaleArgs(PipelineArgs):
    parallelism: int = Parallelism


# --- the target: a pipeline and its current job ----------------------------------------------------------------


async def read_pipeline(api: ApiClient, args: PipelineArgs) -> dict[str, Any]:
    """The pipeline as a proposal sees it: its settings and its jobs' states (404 -> the tool's not-found)."""
    pid = segment(args.pipeline_id)
    pipeline = await api.request("GET", f"/api/v1/pipelines/{pid}") or {}
    jobs = [j for j in await api.request("GET", f"/api/v1/pipelines/{pid}/jobs") or [] if isinstance(j, dict)]
    jobs.sort(key=lambda j: -(j.get("created_at") or 0))
    job = jobs[0] if jobs else {}
    return {
        "id": pipeline.get("id", args.pipeline_id),
        "name": one_line(pipeline.get("name", ""), 120),
        "status": job.get("state", "unknown"),
        "stop": pipeline.get("stop"),
        "parallelism": parallelism_of(pipeline),
        "checkpoint_interval_micros": pipeline.get("checkpoint_interval_micros"),
        "action_text": pipeline.get("action_text"),
        "job": {k: job.get(k) for k in ("id", "state", "run_id", "running_desired", "failure_reason")},
        "job_states": {str(j.get("id")): j.get("state") for j in jobs},
    }


def _state(target: dict[str, Any] | None) -> str:
    return str((target or {}).get("status", "unknown"))


def _name(args: PipelineArgs, target: dict[str, Any] | None) -> str:
    return f"{quote((target or {}).get('name') or args.pipeline_id, 80)} ({args.pipeline_id})"


# --- the control actions as data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    action: str
    title: str
    description: str
    method: str
    path: str
    args: type[PipelineArgs]
    risk: Risk
    effect: Effect
    body: Callable[[Any], dict[str, Any] | None]
    changes: Callable[[Any, dict[str, Any]], list[Change]]
    refuse: Callable[[Any, dict[str, Any]], str | None]


def _stop_changes(args: StopArgs, t: dict[str, Any]) -> list[Change]:
    via = "CheckpointStopping" if args.mode == "checkpoint" else "Stopping"
    return [
        Change(field="stop", before=t.get("stop"), after=args.mode),
        Change(field="job state", before=_state(t), after=f"{via} → Stopped"),
        Change(field="may lose", after=STOP_MODES[args.mode]),
    ]


def _refuse_stop(args: StopArgs, t: dict[str, Any]) -> str | None:
    state = _state(t)
    if state in TERMINAL:
        return f"Pipeline {args.pipeline_id}'s job is already {state}; there is nothing to stop."
    if t.get("stop") == args.mode:
        return (
            f"A {args.mode} stop is already under way (job {state}). If it hangs, stop again with mode immediate, "
            "or force as the last resort."
        )
    return None


def _refuse_start(args: PipelineArgs, t: dict[str, Any]) -> str | None:
    state = _state(t)
    if state == "Failed":
        return (
            f"Pipeline {args.pipeline_id}'s job Failed; start does not leave Failed. Propose arroyo_restart_pipeline "
            "(it resumes from the last checkpoint); arroyo_get_job_errors shows why it failed."
        )
    if state == "Finished":
        return f"Pipeline {args.pipeline_id} finished its bounded input; arroyo_restart_pipeline runs it again."
    if t.get("stop") == "none":
        return f"Pipeline {args.pipeline_id} is already meant to run (job {state}); there is nothing to start."
    return None


def _restart_changes(args: RestartArgs, t: dict[str, Any]) -> list[Change]:
    changes = [
        Change(field="restart", after="force (no clean shutdown)" if args.force else "safe (clean shutdown)"),
        Change(
            field="job state",
            before=_state(t),
            after="Compiling → Scheduling → Running" if _state(t) in TERMINAL else "Restarting → Scheduling → Running",
        ),
    ]
    if args.ignore_state:
        changes.append(
            Change(field="state", after="discarded: a fresh job starts without checkpoints (windows, offsets)")
        )
    return changes


def _refuse_restart(args: RestartArgs, t: dict[str, Any]) -> str | None:
    state = _state(t)
    if args.ignore_state and state not in ("Stopped", "Failed"):
        return (
            f"A restart without state replaces the job, which Arroyo allows only once it is Stopped or Failed (it "
            f"answers 409 'stop the job first'); it is {state}. Propose arroyo_stop_pipeline first, then this again."
        )
    if not args.ignore_state and state == "Stopped":
        return f"Pipeline {args.pipeline_id} is stopped: a restart waits for the next start. Use arroyo_start_pipeline."
    return None


def _refuse_rescale(args: RescaleArgs, t: dict[str, Any]) -> str | None:
    if t.get("parallelism") == args.parallelism:
        return f"Pipeline {args.pipeline_id} already runs with parallelism {args.parallelism}; nothing to change."
    if _state(t) in ("Failed", "Finished"):
        return f"Pipeline {args.pipeline_id}'s job is {_state(t)}; rescale applies to running or stopped pipelines."
    return None


def _refuse_delete(args: PipelineArgs, t: dict[str, Any]) -> str | None:
    active = {j: s for j, s in (t.get("job_states") or {}).items() if s not in TERMINAL}
    if active:
        jobs = ", ".join(f"{j} is {s}" for j, s in active.items())
        return (
            f"Arroyo deletes a pipeline only when every job is Stopped, Finished or Failed (it answers 400 otherwise): "
            f"{jobs}. Propose arroyo_stop_pipeline first, then the delete again."
        )
    return None


CONTROLS = (
    Control(
        "stop",
        "Stop an Arroyo pipeline",
        "Propose stopping a pipeline's job; the mode decides what may be lost (default checkpoint: nothing).",
        "PATCH",
        PIPELINE_PATH,
        StopArgs,
        Risk(
            level="medium",
            note="The pipeline stops producing output until started; the proposal says what the chosen mode may lose.",
        ),
        effect="interrupts",
        body=lambda a: {"stop": a.mode},
        changes=_stop_changes,
        refuse=_refuse_stop,
    ),
    Control(
        "start",
        "Start an Arroyo pipeline",
        "Propose starting a stopped pipeline (it resumes from its last checkpoint).",
        "PATCH",
        PIPELINE_PATH,
        PipelineArgs,
        Risk(level="low", note="The job compiles, schedules and resumes from its last checkpoint."),
        effect="changes",
        body=lambda _a: {"stop": "none"},
        changes=lambda _a, t: [
            Change(field="stop", before=t.get("stop"), after="none"),
            Change(field="job state", before=_state(t), after="Compiling → Scheduling → Running"),
        ],
        refuse=_refuse_start,
    ),
    Control(
        "restart",
        "Restart an Arroyo pipeline",
        "Propose restarting a pipeline's job (e.g. out of Failed); force skips the clean shutdown, ignore_state "
        "starts fresh.",
        "POST",
        PIPELINE_PATH + "/restart",
        RestartArgs,
        Risk(
            level="medium",
            note="The job stops and starts again from its last checkpoint (or from nothing with "
            "ignore_state); records since that checkpoint are processed again.",
        ),
        effect="restarts",
        body=lambda a: {"force": a.force, "ignore_state": a.ignore_state},
        changes=_restart_changes,
        refuse=_refuse_restart,
    ),
    Control(
        "rescale",
        "Rescale an Arroyo pipeline",
        "Propose a new parallelism for every operator of a pipeline.",
        "PATCH",
        PIPELINE_PATH,
        RescaleArgs,
        Risk(
            level="medium",
            note="A running job checkpoints, stops and is scheduled again with the new "
            "parallelism; output pauses meanwhile.",
        ),
        effect="changes",
        body=lambda a: {"parallelism": a.parallelism},
        changes=lambda a, t: [
            Change(field="parallelism", before=t.get("parallelism"), after=a.parallelism),
            Change(
                field="job state",
                before=_state(t),
                after="Rescaling → Scheduling → Running"
                if _state(t) == "Running"
                else "unchanged; applies at the next start",
            ),
        ],
        refuse=_refuse_rescale,
    ),
    Control(
        "delete",
        "Delete an Arroyo pipeline",
        "Propose deleting a pipeline whose jobs are all stopped, finished or failed. Permanent; needs the ID "
        "typed back.",
        "DELETE",
        PIPELINE_PATH,
        PipelineArgs,
        Risk(
            level="high",
            irreversible=True,
            note="PERMANENT: the pipeline, its jobs, checkpoints and error log "
            "are deleted; a new pipeline would start without its state.",
        ),
        effect="removes",
        body=lambda _a: None,
        changes=lambda _a, t: [
            Change(field="pipeline", before=t.get("name"), after="deleted"),
            Change(
                field="jobs",
                before=", ".join(t.get("job_states") or {}) or "none",
                after="deleted with their checkpoints and error logs",
            ),
        ],
        refuse=_refuse_delete,
    ),
)


def _control_operation(spec: Control) -> Operation[Any, Any]:
    def plan(args: PipelineArgs, target: dict[str, Any] | None) -> Plan:
        t = target or {}
        summary = f"{spec.action.capitalize()} pipeline {_name(args, t)}"
        if isinstance(args, StopArgs):
            summary += f" with mode {args.mode}"
        return Plan(summary=summary, changes=spec.changes(args, t), body=spec.body(args))

    def refuse(args: PipelineArgs, target: dict[str, Any] | None) -> str | None:
        return spec.refuse(args, target or {})

    return Operation(
        name=f"arroyo_{spec.action}_pipeline",
        title=spec.title,
        description=spec.description,
        provider=NAME,
        kind="lifecycle",
        endpoint=Endpoint(spec.method, (spec.path,)),
        input_model=spec.args,
        result_model=ActionResult,
        not_found=PIPELINE_NOT_FOUND,
        write=WriteSpec(
            verb=spec.action,
            risk=spec.risk,
            plan=plan,
            effect=spec.effect,
            refuse=refuse,
            read_target=read_pipeline,
            typed_confirmation=spec.effect == "removes",
        ),
    )


# --- create ----------------------------------------------------------------------------------------------------


async def check_query(call: Call[CreateArgs]) -> None:
    """Validate the query with Arroyo before proposing: a query with errors is never proposed."""
    data = await call.api.request("POST", "/api/v1/pipelines/validate_query", body={"query": call.args.query})
    errors = query_errors(data)
    if errors:
        listed = "; ".join(quote(e.message, 300) + (f" at {one_line(e.span, 60)}" if e.span else "") for e in errors)
        raise ToolError(
            f"Arroyo rejects this query, so nothing was proposed: {listed}. Fix it (arroyo_validate_query checks "
            "a draft) and propose again."
        )


async def _pipelines(api: ApiClient, pages: int = 20) -> list[dict[str, Any]]:
    """The organisation's pipelines, newest first, up to ``pages`` pages of 100."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(pages):
        params = {"limit": "100"} | ({"starting_after": after} if after else {})
        answer = await api.fetch("GET", "/api/v1/pipelines", params=params)
        found += [p for p in answer.payload or [] if isinstance(p, dict)]
        if not answer.next_cursor:
            break
        after = answer.next_cursor
    return found


async def _namesakes(api: ApiClient, args: CreateArgs) -> dict[str, Any]:
    """The create's target: the pipelines that already carry this name (Arroyo allows duplicates)."""
    return {"namesakes": [str(p["id"]) for p in await _pipelines(api) if p.get("name") == args.name and "id" in p]}


def _create_plan(args: CreateArgs, target: dict[str, Any] | None) -> Plan:
    body: dict[str, Any] = {"name": args.name, "query": args.query, "parallelism": args.parallelism}
    if args.checkpoint_interval_seconds is not None:
        body["checkpoint_interval_micros"] = args.checkpoint_interval_seconds * 1_000_000
    namesakes = list((target or {}).get("namesakes") or [])
    summary = f"Create pipeline {quote(args.name, 80)}"
    if namesakes:
        summary += f" (NOTE: {len(namesakes)} pipeline(s) with this name exist already: {', '.join(namesakes[:3])})"
    changes = [
        Change(field="name", after=args.name),
        Change(field="query", after=one_line(args.query, 300)),
        Change(field="parallelism", after=args.parallelism),
        Change(field="checkpoint interval", after=f"{args.checkpoint_interval_seconds or 10} s"),
        Change(field="query check", after="valid (checked with validate_query just now)"),
    ]
    return Plan(summary=summary, changes=changes, body=body, existing=tuple(namesakes))


async def _find_created(api: ApiClient, args: CreateArgs, existing: list[str]) -> dict[str, Any] | None:
    """After a lost answer: a pipeline with this name and query that was not there when it was proposed."""
    for p in await _pipelines(api):
        if str(p.get("id")) not in existing and p.get("name") == args.name and p.get("query") == args.query:
            return p
    return None


CREATE = Operation(
    name="arroyo_create_pipeline",
    title="Create an Arroyo pipeline",
    description="Propose a pipeline from a SQL query (checked first); it starts running once confirmed.",
    provider=NAME,
    kind="write",
    endpoint=Endpoint("POST", ("/api/v1/pipelines",)),
    input_model=CreateArgs,
    result_model=ActionResult,
    check=check_query,
    write=WriteSpec(
        verb="create",
        effect="adds",
        risk=Risk(
            level="medium",
            note="Creates a pipeline whose job starts at once, reading its sources and writing to its sinks.",
        ),
        plan=_create_plan,
        read_target=_namesakes,
        find_created=_find_created,
    ),
)

WRITE_OPERATIONS: tuple[Operation[Any, Any], ...] = (CREATE, *(_control_operation(c) for c in CONTROLS))
