"""What the gate answers: a proposal or an outcome (ActionResult), the pending list, and the text a person
reads of them (render_action)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from jobs_mcp.operations import Change, Risk, ToolResult
from jobs_mcp.textsafe import one_line

BODY_SHOWN = 600  # characters of a request body shown inline; a larger body is named by size and hash
Status = Literal["proposed", "executed", "stale", "cancelled", "declined", "failed", "unknown"]


class PlannedRequest(BaseModel):
    method: str
    url: str = Field(description="full URL; credentials are never part of it")
    headers: dict[str, str] = Field(default_factory=dict, description="headers besides auth (never a credential)")
    body: Any = None


class ActionResult(ToolResult):
    """What every write tool and confirm_action/cancel_action return."""

    status: Status
    platform: str | None = Field(None, description="the platform the action is for")
    summary: str = Field(description="one line a person reads")
    confirmation_id: str | None = None
    changes: list[Change] = Field(default_factory=list)
    request: PlannedRequest | None = None
    risk: Risk | None = None
    expires_at: str | None = None
    requires_typed_id: bool = Field(False, description="confirm_action needs typed_job_id (kill)")
    next_step: str = ""
    target: dict[str, Any] | None = Field(None, description="the target's state (after the change when executed)")
    approval_url: str | None = Field(None, description="the approval page, for the person to open (never the model)")


class PendingList(ToolResult):
    actions: list[ActionResult]


def render_action(result: ActionResult, *, whole: bool = False) -> str:
    """The text a person reads: what will happen (or happened), the risk, the exact request, how to go on.

    ``whole``: the question put to the person, who approves exactly what it shows, so no value is cut (a cut
    could hide the very part that differs, say a URL's ``&forward_to=…`` tail). A body too large to show is
    named by size and hash, and the question says that its every changed value is listed above, whole."""

    def bounded(value: object, limit: int) -> str:
        return one_line(value, None if whole else limit)

    heading = {
        "proposed": "PROPOSED, not done yet",
        "stale": "NOT SENT: the target changed; fresh proposal",
        "executed": "DONE",
        "cancelled": "CANCELLED",
        "declined": "NOT DONE: the person declined",
        "failed": "FAILED",
        "unknown": "OUTCOME UNKNOWN",
    }[result.status]
    lines = [f"{heading}: {result.summary}"]
    if result.risk and result.status in ("proposed", "stale"):
        if result.risk.irreversible:
            lines.append(f"!! {result.risk.note}")
        else:
            lines.append(f"risk: {result.risk.level}. {result.risk.note}")
    for change in result.changes:
        before = "" if change.before is None else f"{bounded(change.before, 120)} → "
        lines.append(f"  {bounded(change.field, 200)}: {before}{bounded(change.after, 160)}")
    if result.request is not None and result.status in ("proposed", "stale"):
        lines.append(f"request: {result.request.method} {result.request.url}")
        for name, value in result.request.headers.items():
            lines.append(f"header: {name}: {bounded(value, 120)}")
        if result.request.body is not None:
            body = json.dumps(result.request.body, sort_keys=True)
            if len(body) <= BODY_SHOWN:
                lines.append("body: " + one_line(body, BODY_SHOWN))
            else:  # never cut silently: the changed paths are listed above; the whole body is in the result
                digest = hashlib.sha256(body.encode()).hexdigest()[:16]
                where = "every changed value is listed above, whole" if whole else "whole in the structured result"
                lines.append(f"body: {len(body):,} bytes (sha256 {digest}), {where}")
    if result.target is not None and result.status == "executed":
        state = {k: result.target.get(k) for k in ("id", "name", "status") if k in result.target}
        if state:  # e.g. OwlMetry's cancel answers only {"cancelled": true}
            lines.append("now: " + ", ".join(f"{k}={one_line(v, 80)}" for k, v in state.items()))
    if result.confirmation_id and result.status in ("proposed", "stale"):
        lines.append(f"confirmation_id: {result.confirmation_id} (expires {result.expires_at})")
    if result.approval_url and result.status in ("proposed", "stale"):
        lines.append(f"Open to approve: {result.approval_url}")
    if result.next_step:
        lines.append(result.next_step)
    return "\n".join(lines)
