"""``jobs-mcp accounts``: which accounts the server would use, and whether each answers one cheap read.

The read is the one each provider declares as its probe (``Provider.probe``), so a new platform is checked with
no code here. Failures are one scrubbed line each: no token is ever printed.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from pydantic import ValidationError

from jobs_mcp import registry
from jobs_mcp.config import Account, Settings
from jobs_mcp.operations import Operation, OperationInput
from jobs_mcp.runtime import Runtime
from jobs_mcp.textsafe import one_line


def probe_operation(provider_name: str) -> Operation[Any, Any] | None:
    """The read the provider declares as its probe (``Provider.probe``: argument-free, changes nothing), the
    cheapest way to learn whether an account answers; None when it declares none."""
    declared = registry.provider(provider_name)
    return next((op for op in declared.operations() if op.name == declared.probe), None) if declared.probe else None


def _smallest_page(op: Operation[Any, Any]) -> OperationInput:
    """The probe's arguments: its defaults, asking for one item where the operation pages with ``limit``."""
    wanted = {"limit": 1} if "limit" in op.input_model.model_fields else {}
    try:
        args: OperationInput = op.input_model.model_validate(wanted)
    except ValidationError:  # a platform whose pages cannot be that small: its default page
        args = op.input_model.model_validate({})
    return args


async def _probe(runtime: Runtime, account: Account) -> str:
    """``ok …`` when the account answers its provider's probe read, else ``FAILED: <why, one line>``."""
    op = probe_operation(account.provider)
    if op is None:
        return "not checked: this platform declares no read-only call without arguments"
    started = time.perf_counter()
    try:
        await runtime.read(op, _smallest_page(op), account.name)
    except Exception as exc:  # every failure becomes its one-line explanation, scrubbed of any token
        return "FAILED: " + one_line(str(exc) or type(exc).__name__, 400)
    return f"ok ({op.name} answered in {(time.perf_counter() - started) * 1000:.0f} ms)"


async def _probe_all(settings: Settings) -> list[str]:
    runtime = Runtime(settings)
    verdicts = [""] * len(settings.accounts)

    async def check(index: int, account: Account) -> None:
        verdicts[index] = await _probe(runtime, account)

    try:
        async with anyio.create_task_group() as group:
            for index, account in enumerate(settings.accounts):
                group.start_soon(check, index, account)
    finally:
        await runtime.aclose()
    return verdicts


def _where(account: Account) -> str:
    if account.sandbox:
        return "sandbox: simulated data, no credentials set"
    return one_line(account.url, 80)


async def check_accounts(settings: Settings) -> list[tuple[str, str, str]]:
    """One row per account: ``provider/account``, where it points (or that it is a sandbox), and the verdict."""
    verdicts = await _probe_all(settings)
    return [(f"{a.provider}/{a.name}", _where(a), v) for a, v in zip(settings.accounts, verdicts, strict=True)]
