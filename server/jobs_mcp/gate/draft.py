"""A write worked out before anything is sent (Draft), and what its WriteSpec says of its target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobs_mcp.confirmation import canonical_digest
from jobs_mcp.operations import Operation, OperationInput, Plan, WriteSpec

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient


@dataclass(frozen=True)
class Draft:
    """A worked-out write before anything is sent: the target as read, the plan and the exact request."""

    op: Operation[Any, Any]
    args: OperationInput
    api: ApiClient
    target: dict[str, Any] | None
    plan: Plan
    request: dict[str, Any]
    principal: str = "local"  # who proposed it: only they may confirm, cancel or see it

    @property
    def target_id(self) -> str:
        return _target_id(self.op, self.target)

    @property
    def version(self) -> str:
        return _version(self.op, self.api, self.target)


def _target_id(op: Operation[Any, Any], target: dict[str, Any] | None) -> str:
    """The target's id by the write's own rule (a DAG keyed by ``dag_id``, a run by its ``id``); "new" for none."""
    found = _spec(op).target_id(target) if target is not None else None
    return str(found) if found not in (None, "") else "new"


def _version(op: Operation[Any, Any], api: ApiClient, target: dict[str, Any] | None) -> str:
    """What of the target the proposal was based on, as the write (or else its provider) judges it: never run-time
    noise, but everything that decides whether the action still applies (a run that finished meanwhile)."""
    if target is None:
        return "-"
    version = _spec(op).version or api.provider.version
    return canonical_digest(version(target))[:16]


def _follow_up(op: Operation[Any, Any], api: ApiClient, answer: Any) -> str | None:
    """The wait tool that follows what this write started (a trigger's run, a started pipeline), with its id."""
    verb = _spec(op).verb
    follows = (o.follows for o in api.provider.operations() if o.follows is not None)
    return next((call for follow in follows if (call := follow(verb, answer))), None)


def _spec(op: Operation[Any, Any]) -> WriteSpec:
    if op.write is None:
        raise TypeError(f"{op.name} is not a write operation")
    return op.write
