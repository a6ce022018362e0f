"""Following a run to its end: a wait tool per platform, declared as data and made into an ordinary read.

A ``Wait`` names the provider's get tool and says how one of its answers reads (``Seen``: the status, whether the
run is over, its percent and times, the failure's digest). ``Wait.operation()`` makes the read-only operation
that ``app.py`` registers in its one loop like every other: it reads the get tool's answer at the platform's pace
(backing off, longer after a 429 or a 5xx) until the run ends or ``timeout_s`` is up, reports progress at every
poll, and stops at once when the request is cancelled (the poll loop is the request's own task, so a cancel
ends it). Time up is an answer ("still running, call me again"), never an error, and always within what every
client waits for a call (55 s at most).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import Field

from jobs_mcp.digest import LogDigest, render_digest
from jobs_mcp.errors import ApiError
from jobs_mcp.operations import Call, Operation, OperationInput, StatusClass, ToolResult
from jobs_mcp.textsafe import quote, token

DEFAULT_TIMEOUT = 45
MAX_TIMEOUT = 55  # under every client's cut-off (about 60 s)
TimeoutS = Field(DEFAULT_TIMEOUT, ge=1, le=MAX_TIMEOUT, description="seconds to wait at most")


class WaitInput(OperationInput):
    """Base of every wait tool's arguments: the id fields come from the provider, ``timeout_s`` from here."""

    timeout_s: int = TimeoutS


W = TypeVar("W", bound=WaitInput)


@dataclass(frozen=True)
class Seen:
    """One reading of a run, in the words every wait shares."""

    status: str
    health: StatusClass
    ended: bool  # over (or, for a wait with a target, at the target or past any hope of it)
    reached: bool | None = None  # a wait with a target state: whether the run is in it
    percent: float | None = None
    started: datetime | None = None
    finished: datetime | None = None
    detail: str | None = None  # the failure as the platform words it (one line, quoted by render)
    digest: LogDigest | None = None  # the failure's log digest, the same the get tool shows


class WaitResult(ToolResult):
    ended: bool = Field(description="true: the run is over (or reached the state asked for); false: time was up")
    id: str = Field(description="the run or job followed")
    status: str = Field(description="the last status read, exactly as the platform reports it")
    health: StatusClass
    reached: bool | None = Field(None, description="waits for a state: whether it was reached")
    percent: float | None = Field(None, description="progress in percent, where the platform reports it")
    ran_s: float | None = Field(None, description="how long the run ran (so far, when not ended)")
    waited_s: float = Field(description="how long this call waited")
    polls: int = Field(description="reads of the platform this call made")
    detail: str | None = Field(None, description="the failure as the platform words it")
    digest: LogDigest | None = Field(None, description="the failure's log digest (as the get tool gives it)")
    next_step: str


@dataclass(frozen=True)
class Wait(Generic[W]):
    """A wait tool declared as data. ``look`` reads one answer of ``get`` given the wait's arguments and the
    statuses seen so far in this call (for waits such as "the next run ends", which need what came before)."""

    name: str
    title: str
    description: str
    get: Operation[Any, Any]  # the get tool whose answer is read at every poll
    input_model: type[W]
    look: Callable[[W, Any, Sequence[str]], Seen]
    subject: str = "run"  # what is followed, in words: "run", "job"
    pace: float = 5.0  # seconds between the first polls: the platform's own pace
    max_pace: float = 15.0  # backing off up to this
    explain: str = ""  # where a failure's cause is read when the get tool's answer has no digest of it
    # the writes this wait follows, by verb (trigger, start, ...), with the further arguments to call it with
    after: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def operation(self) -> Operation[W, WaitResult]:
        async def run(call: Call[W]) -> WaitResult:
            return await follow(self, call)

        return Operation(
            name=self.name,
            title=self.title,
            description=self.description,
            provider=self.get.provider,
            kind="read",
            endpoint=None,
            run=run,
            input_model=self.input_model,
            result_model=WaitResult,
            render=render_wait,
            check=self.get.check,
            not_found=self.get.not_found,
            follows=self.follows,
        )

    def follows(self, verb: str, answer: Any) -> str | None:
        """What to call after an executed write of ``verb`` whose answer is ``answer`` (the run or job it made
        or moved): this wait with the answer's id, or None when this wait does not follow that write."""
        extra = self.after.get(verb)
        ident = answer.get("id") if isinstance(answer, dict) else None
        if extra is None or not isinstance(ident, str | int) or isinstance(ident, bool):
            return None
        own = [name for name in self.input_model.model_fields if name not in WaitInput.model_fields]
        args = {own[0]: str(ident), **extra}
        shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in args.items())
        return f"To learn how it ends, call {self.name}({shown})."

    def call_again(self, args: W) -> str:
        shown = ", ".join(
            f"{k}={json.dumps(v)}" for k, v in args.model_dump(exclude={"timeout_s"}, exclude_none=True).items()
        )
        return f"{self.name}({shown})"


async def follow(wait: Wait[W], call: Call[W]) -> WaitResult:
    """Poll ``wait.get`` until the run ends or the time is up (see the module's docstring)."""
    read, sleep, clock = call.read, call.sleep, call.clock
    assert read is not None and sleep is not None and clock is not None, "a wait runs in a Runtime"
    args = call.args
    own = set(wait.get.input_model.model_fields)
    get_args = wait.get.input_model.model_validate(args.model_dump(include=own & set(type(args).model_fields)))
    ident = str(next(iter(get_args.model_dump().values())))
    start = clock()
    pace = wait.pace
    history: list[str] = []
    polls = 0
    seen: Seen | None = None
    trouble: ApiError | None = None

    def answer(ended: bool, gone: bool = False) -> WaitResult:
        assert seen is not None
        now = clock()
        waited = round((now - start).total_seconds(), 1)
        ran = None
        if seen.started is not None:
            ran = round(max(((seen.finished or now) - seen.started).total_seconds(), 0.0), 1)
        if gone:
            step = f"The {wait.subject} was deleted while it was followed; {wait.get.name} no longer finds it."
        elif ended:
            step = _after_end(wait, seen)
        else:
            step = f"Still going after {waited:g} s: call {wait.call_again(args)} again to keep following."
            if trouble is not None:
                step += f" (The last poll failed: {trouble}.)"
        return WaitResult(
            sandbox=call.sandbox,
            ended=ended,
            id=ident,
            status="deleted" if gone else seen.status,
            health="deleted" if gone else seen.health,
            reached=seen.reached,
            percent=seen.percent,
            ran_s=ran,
            waited_s=waited,
            polls=polls,
            detail=seen.detail,
            digest=seen.digest,
            next_step=step,
        )

    while True:
        polls += 1
        try:
            result = await read(wait.get, get_args)
        except ApiError as exc:
            if exc.status == 404 and seen is not None:
                return answer(ended=True, gone=True)
            if not _passing(exc):
                raise  # polling again will not cure it (401, 403, a 404 on the first read ...)
            trouble = exc
            pace = max(min(pace * 2, wait.max_pace), exc.retry_after or 0.0)  # Retry-After wins
        else:
            trouble = None
            seen = wait.look(args, result, history)
            history.append(seen.status)
            if seen.ended:
                return answer(ended=True)
        elapsed = (clock() - start).total_seconds()
        if call.progress is not None and seen is not None:
            done, total = (round(seen.percent), 100) if seen.percent is not None else (round(elapsed), args.timeout_s)
            await call.progress(done, total, f"{wait.subject} {ident}: {seen.status} after {elapsed:.0f} s")
        left = args.timeout_s - elapsed
        if left <= 0 or (trouble is not None and left < pace):  # no early read against a rate limit
            if seen is None:
                assert trouble is not None
                raise trouble  # the platform never answered in the whole time: that is the answer
            return answer(ended=False)
        await sleep(min(pace, left))
        pace = pace if trouble is not None else min(pace * 1.5, wait.max_pace)


def _passing(exc: ApiError) -> bool:
    """A polling error that may pass: rate limits, server errors, no answer at all."""
    return exc.status is None or exc.status == 429 or exc.status >= 500


def _after_end(wait: Wait[Any], seen: Seen) -> str:
    why = wait.explain or f"{wait.get.name} shows the details."
    if seen.reached is False:
        return f"It will not get there by itself. {why}"
    if seen.health in ("failed", "fault"):
        return "It failed: the digest above shows why." if seen.digest else f"It failed. {why}"
    return "Done."


def render_wait(result: WaitResult) -> str:
    what = f"{token(result.status)} ({result.health})"
    ran = f", ran {_duration(result.ran_s)}" if result.ran_s is not None else ""
    share = f", {result.percent:g}%" if result.percent is not None else ""
    if not result.ended:
        head = f"{token(result.id)} is still {what}{share}{ran}; waited {result.waited_s:g} s."
    elif result.reached is not None:
        head = f"{token(result.id)} {'reached' if result.reached else 'ended in'} {what}{ran}."
    else:
        head = f"{token(result.id)} ended: {what}{share}{ran}."
    lines = [head]
    if result.detail:
        lines.append(f"error: {quote(result.detail, 300)}")
    if result.digest is not None:
        lines += ["Log digest:", render_digest(result.digest)]
    lines.append(result.next_step)
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:g} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def percent_of(done: float, total: float) -> float | None:
    return round(100 * done / total, 1) if total > 0 else None
