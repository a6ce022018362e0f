"""Suites parametrized over every provider's operations: a new platform is tested by adding its cases
(tests/cases/<name>.py), not by copying tests.

Each test builds a server on the provider's in-process simulator and talks to it through the in-memory MCP client;
the last one serves the simulator over real HTTP (`jobs-mcp sandbox --provider P`) and points a server at it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from mcp import Client
from mcp.types import ElicitResult

from cases import Cases, all_cases
from jobs_mcp import registry
from jobs_mcp.app import build_server, sandbox_mark
from jobs_mcp.config import Settings, load_settings
from support import BIN, CANARY, Sandbox, free_port, http_process, text_of

pytestmark = pytest.mark.anyio

CASES = all_cases()
BY_PROVIDER = {c.provider: c for c in CASES}


def _ids(items: list[tuple[Cases, str, dict[str, Any]]]) -> list[str]:
    return [f"{tool}" for _, tool, _ in items]


READS = [(c, tool, args) for c in CASES for tool, args in [*c.reads.items(), *c.extra_reads]]
WRITES = [(c, tool, args) for c in CASES for tool, args in c.writes.items()]
NOT_FOUND = [(c, tool, args) for c in CASES for tool, args in c.not_found.items()]


@pytest.fixture
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Sandbox, Client]]:
    cases: Cases = request.param
    sandbox = Sandbox(provider=cases.provider, confirm="token")
    async with Client(sandbox.server) as client:
        yield sandbox, client


def _writes_sent(sandbox: Sandbox) -> int:
    # A query check is a read that POSTs (Arroyo's validate_query): a create's pre-flight may send it.
    checks = sandbox.hits("POST", "*/validate_query")
    return sum(sandbox.hits(m) for m in ("POST", "PUT", "PATCH", "DELETE")) - checks


@pytest.mark.parametrize("cases", CASES, ids=[c.provider for c in CASES])
async def test_every_tool_has_a_case_a_valid_schema_and_annotations(cases: Cases) -> None:
    sandbox = Sandbox(provider=cases.provider)
    async with Client(sandbox.server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    declared = {op.name: op for op in registry.provider(cases.provider).operations()}
    assert declared, "a provider declares operations"
    assert set(declared) <= set(tools)
    covered = set(cases.reads) | set(cases.writes)
    assert set(declared) == covered, (
        f"tools without a case: {set(declared) - covered}; stale: {covered - set(declared)}"
    )
    for name, op in declared.items():
        assert name.startswith(registry.provider(cases.provider).prefix)
        tool = tools[name]
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema.get("additionalProperties") is False
        assert tool.output_schema is not None
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        assert tool.annotations is not None and tool.annotations.read_only_hint is (op.kind == "read")
        assert tool.description and len(tool.description) < 400
        for field, prop in tool.input_schema.get("properties", {}).items():
            options = [prop, *prop.get("anyOf", [])]
            assert any(o.get("description") or o.get("$ref") for o in options), f"{name}.{field} is undocumented"


@pytest.mark.parametrize("name", registry.names())
def test_the_checklists_declarations_name_real_operations(name: str) -> None:
    """What server/jobs_mcp/providers/README.md asks of a Provider beyond its types: the probe and the show read
    are its own reads (the probe needs no argument), it has a demo, and every write says how it is proposed."""
    declared = registry.provider(name)
    ops = {op.name: op for op in declared.operations()}
    assert all(op.name.startswith(declared.prefix) and op.provider == name for op in ops.values()), name
    probe = ops.get(declared.probe)
    assert probe is not None and probe.kind == "read", f"{name}: probe={declared.probe!r} is not one of its reads"
    assert not any(f.is_required() for f in probe.input_model.model_fields.values()), f"{name}: probe needs args"
    if any(op.kind != "read" for op in ops.values()):
        shown = ops.get(declared.show)
        assert shown is not None and shown.kind == "read", f"{name}: show={declared.show!r} is not one of its reads"
    assert all(op.write is not None for op in ops.values() if op.kind != "read"), name
    assert declared.demo(), f"{name}: no demo steps (jobs-mcp demo shows every platform)"


@pytest.mark.parametrize(("cases", "tool", "args"), READS, ids=_ids(READS))
async def test_read_on_seed_data(cases: Cases, tool: str, args: dict[str, Any]) -> None:
    sandbox = Sandbox(provider=cases.provider)
    async with Client(sandbox.server) as client:
        schema = {t.name: t for t in (await client.list_tools()).tools}[tool].output_schema
        result = await client.call_tool(tool, args)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None and result.structured_content["sandbox"] is True
    jsonschema.validate(result.structured_content, schema)
    text = text_of(result)
    assert text.startswith(sandbox_mark(sandbox.provider.title))
    assert _writes_sent(sandbox) == 0 or tool.endswith("validate_query"), "a read sent a write"
    if tool == cases.list_tool:
        assert "| ID |" in text or "|---|" in text, "a list reads as a table"
    # a digest speaks only of what this platform's log holds (its LogVocabulary): no other platform's counters
    vocabulary = registry.provider(cases.provider).log
    if not vocabulary.counters:
        assert "totals:" not in text and "omitted" not in text, text
    if not vocabulary.success:
        assert "last data moved" not in text, text


@pytest.mark.parametrize("cases", CASES, ids=[c.provider for c in CASES])
async def test_unknown_and_bad_arguments_are_refused_before_any_call(cases: Cases) -> None:
    sandbox = Sandbox(provider=cases.provider)
    tool, args = next(iter(cases.reads.items()))
    tried = 0
    async with Client(sandbox.server) as client:
        invented = await client.call_tool(tool, {**args, "made_up_filter": 1})
        assert invented.is_error and "made_up_filter" in text_of(invented)
        for name, good in [*cases.reads.items(), *cases.writes.items()]:
            id_fields = [k for k in good if k.endswith("_id") and isinstance(good[k], str)]
            for field in id_fields:
                before = sandbox.hits()
                bad = await client.call_tool(name, {**good, field: "../../etc/passwd"})
                assert bad.is_error and field in text_of(bad), text_of(bad)
                assert sandbox.hits() == before, f"{name} called the API with a bad {field}"
                tried += 1
    assert tried, "no case names an ID to try a bad one on"


@pytest.mark.parametrize(("cases", "tool", "args"), NOT_FOUND, ids=_ids(NOT_FOUND))
async def test_not_found_says_where_to_look(cases: Cases, tool: str, args: dict[str, Any]) -> None:
    sandbox = Sandbox(provider=cases.provider)
    async with Client(sandbox.server) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error
    text = text_of(result)
    assert "was not found" in text, text
    assert registry.provider(cases.provider).prefix in text, f"no next step naming a tool: {text}"


@pytest.mark.parametrize("status", [401, 403, 429, 500])
@pytest.mark.parametrize("cases", CASES, ids=[c.provider for c in CASES])
async def test_api_errors_are_explained_without_the_token(cases: Cases, status: int) -> None:
    sandbox = Sandbox(provider=cases.provider)
    method, glob = cases.list_route
    sandbox.faults.add(method, glob, status=status, retry_after=1 if status == 429 else None)
    async with Client(sandbox.server) as client:
        result = await client.call_tool(cases.list_tool, cases.reads[cases.list_tool])
    assert result.is_error
    text = text_of(result)
    assert sandbox.provider.title in text and f"HTTP {status}" in text
    assert "sandbox-token" not in text
    nexts = {401: "API_TOKEN", 403: "permission", 429: "Try again", 500: "Try again"}
    assert nexts[status] in text, text


def _risk(cases: Cases, tool: str) -> str:
    op = next(o for o in registry.provider(cases.provider).operations() if o.name == tool)
    assert op.write is not None
    return op.write.risk.level


@pytest.mark.parametrize(("cases", "tool", "args"), WRITES, ids=_ids(WRITES))
async def test_write_asks_the_person_and_sends_once(cases: Cases, tool: str, args: dict[str, Any]) -> None:
    """Channel 1: a client that can ask its user gets the question (with the code for a permanent action) and no
    confirmation id; the yes sends the request once."""
    sandbox = Sandbox(provider=cases.provider)
    asked: list[str] = []

    async def person(_context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        code = re.search(r"type this code: ([A-Z2-7]{6})", params.message)
        return ElicitResult(action="accept", content={"code": code.group(1)} if code else {"approve": True})

    async with Client(sandbox.server, mode="legacy", elicitation_callback=person) as client:
        result = await client.call_tool(tool, args)
    assert not result.is_error, text_of(result)
    assert result.structured_content["status"] == "executed", text_of(result)  # type: ignore[index]
    assert result.structured_content["confirmation_id"] is None and asked  # type: ignore[index]
    assert _writes_sent(sandbox) >= 1
    assert sandbox.runtime.gate.audit.recent()[0]["channel"] == "asked"


@pytest.mark.parametrize(("cases", "tool", "args"), WRITES, ids=_ids(WRITES))
async def test_write_proposes_then_sends_once_on_confirm(cases: Cases, tool: str, args: dict[str, Any]) -> None:
    """Channel 3: a client that cannot ask gets a proposal and a confirmation id; high-risk actions only when
    the operator allowed ids for them."""
    high = _risk(cases, tool) == "high"
    if high:
        refused = Sandbox(provider=cases.provider, confirm="token")
        async with Client(refused.server) as client:
            result = await client.call_tool(tool, args)
        assert result.is_error and "high-risk" in text_of(result) and _writes_sent(refused) == 0
    sandbox = Sandbox(provider=cases.provider, confirm="token", allow_high_risk_ids=high)
    async with Client(sandbox.server) as client:
        proposal = await client.call_tool(tool, args)
        assert not proposal.is_error, text_of(proposal)
        p = proposal.structured_content
        assert p is not None and p["status"] == "proposed" and p["risk"]["level"] in ("low", "medium", "high")
        assert p["request"]["method"] in ("POST", "PUT", "PATCH", "DELETE") and p["summary"]
        assert "PROPOSED, not done yet" in text_of(proposal)
        assert _writes_sent(sandbox) == 0, "a proposal sent a write"
        confirm: dict[str, Any] = {"confirmation_id": p["confirmation_id"]}
        if p["requires_typed_id"]:
            confirm["typed_job_id"] = p["target"]["id"]
        done = await client.call_tool("confirm_action", confirm)
        assert not done.is_error, text_of(done)
        assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
        sent = _writes_sent(sandbox)
        assert sent >= 1
        replay = await client.call_tool("confirm_action", confirm)
        assert replay.is_error and _writes_sent(sandbox) == sent
    record = sandbox.runtime.gate.audit.recent()[0]
    assert record["tool"] == tool and record["outcome"]["status"] == "executed"
    assert "sandbox-token" not in str(record)


@pytest.fixture(params=CASES, ids=[c.provider for c in CASES])
def simulator_over_http(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Cases, str]]:
    cases: Cases = request.param
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(BIN), "sandbox", "--provider", cases.provider, "--port", str(port), "--token", CANARY]
    with http_process(args, url + "/_sandbox/hits", tmp_path / "sandbox.log"):
        yield cases, url


def _pointed_at(cases: Cases, url: str, tmp_path: Any) -> Settings:
    """Settings of a server using the provider's simulator at ``url`` as if it were the real platform."""
    declared = registry.provider(cases.provider)
    env = {declared.env("api_token"): CANARY, declared.env("api_url"): url}
    env |= {declared.env(extra): value for extra, value in declared.sandbox_extras.items()}
    settings = load_settings(env, audit_db=str(tmp_path / "audit.db"))
    assert settings.providers == (cases.provider,) and not settings.sandbox
    return settings


@pytest.mark.slow
async def test_reads_over_real_http(simulator_over_http: tuple[Cases, str], tmp_path: Any) -> None:
    cases, url = simulator_over_http
    async with Client(build_server(_pointed_at(cases, url, tmp_path))) as client:
        for tool, args in cases.reads.items():
            result = await client.call_tool(tool, args)
            assert not result.is_error, f"{tool}: {text_of(result)}"
            assert CANARY not in text_of(result)
            assert not text_of(result).startswith("[sandbox")


STREAMED = [(c, tool, args, glob) for c in CASES for tool, args, glob in c.streamed_logs]


@pytest.mark.parametrize(
    ("simulator_over_http", "tool", "args", "glob"),
    STREAMED,
    indirect=["simulator_over_http"],
    ids=[tool for _, tool, _, _ in STREAMED],
)
async def test_a_log_cut_off_mid_answer_is_digested_as_far_as_it_came(
    simulator_over_http: tuple[Cases, str], tool: str, args: dict[str, Any], glob: str, tmp_path: Any
) -> None:
    """The simulator closes the connection halfway through the log: the digest covers what arrived, says how
    many entries that is and that the rest is missing, and never passes the part off as the whole."""
    cases, url = simulator_over_http
    async with Client(build_server(_pointed_at(cases, url, tmp_path))) as client:
        whole = await client.call_tool(tool, args)
        httpx.post(f"{url}/_sandbox/faults", json={"method": "GET", "path_glob": glob, "drop": True, "times": 1})
        cut = await client.call_tool(tool, args)
    assert not cut.is_error, text_of(cut)
    full, part = whole.structured_content["digest"], cut.structured_content["digest"]  # type: ignore[index]
    assert full["complete"] and full["missing"] is None
    assert not part["complete"] and 0 < part["entries"] < full["entries"], (part["entries"], full["entries"])
    assert "connection" in part["missing"] and "dropped" in part["missing"]
    assert f"INCOMPLETE: only {part['entries']:,} entries were read" in text_of(cut)
    assert "INCOMPLETE" not in text_of(whole) and CANARY not in text_of(cut)
