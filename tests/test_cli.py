"""The `jobs-mcp` command as a person uses it: help, the demo, wrong input, ports, logging, the sandbox's flags."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import anyio
import httpx
import pytest

import jobs_mcp
from jobs_mcp import registry
from jobs_mcp.app import build_server
from jobs_mcp.cli import build_parser
from jobs_mcp.config import ConfigError, load_settings
from jobs_mcp.demo import Step
from support import BIN, CANARY, child_env, free_port, wait_http

COMMANDS = ("serve", "accounts", "demo", "audit", "sandbox")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(**env),
        stdin=subprocess.DEVNULL,  # a `serve` that started by mistake ends at once instead of waiting for input
    )


def settings_the_server_reads() -> set[str]:
    """Every JOBS_MCP_* variable named in the package's code outside the CLI itself (the cli package)."""
    package = Path(jobs_mcp.__file__).parent
    return {
        name
        for source in package.rglob("*.py")
        if package / "cli" not in source.parents
        for name in re.findall(r"\bJOBS_MCP_[A-Z_]*[A-Z]\b", source.read_text(encoding="utf-8"))
    }


@pytest.mark.slow
def test_help_explains_every_command_and_setting() -> None:
    top = run("--help")
    assert top.returncode == 0
    for command in COMMANDS:
        assert command in top.stdout
    assert "LYTICS_API_TOKEN" in top.stdout
    serve = run("serve", "--help").stdout
    assert "--read-only" in serve and "--confirm" in serve and "--http" in serve
    assert "fault spec" in run("sandbox", "--help").stdout
    settings = settings_the_server_reads()
    assert {"JOBS_MCP_AUDIT_DB", "JOBS_MCP_GATE_KEY", "JOBS_MCP_TIMEOUT"} <= settings
    for name in settings:
        assert name in top.stdout and name in serve, name


@pytest.mark.parametrize("command", COMMANDS)
def test_log_level_goes_before_or_after_any_command(command: str) -> None:
    parse = build_parser().parse_args
    needed = ["--http"] if command == "serve" else []
    assert parse([command, *needed]).log_level == "WARNING"
    assert parse([command, *needed, "--log-level", "debug"]).log_level == "DEBUG"
    assert parse(["--log-level", "INFO", command, *needed]).log_level == "INFO"
    assert parse(["--log-level", "INFO", command, "--log-level", "ERROR", *needed]).log_level == "ERROR"


# Each wrong input: the command, the environment, and what its one line must name. "{tmp}" is the test's folder.
WRONG_INPUT: list[tuple[tuple[str, ...], dict[str, str], str]] = [
    (("serve", "--http", "--port", "99999"), {}, "--port"),
    (("serve", "--http", "--port", "-5"), {}, "--port"),
    (("serve", "--http", "--port", "0"), {}, "1 to 65535"),
    (("sandbox", "--port", "-5"), {}, "or 0 for any free port"),
    (("sandbox", "--port", "65536"), {}, "--port"),
    (("serve", "--timeout", "0"), {}, "--timeout"),
    (("serve", "--timeout", "nan"), {}, "--timeout"),
    (("serve", "--confirm-ttl", "100000"), {}, "at most 86400"),
    (("serve", "--http", "--rate-limit", "-1"), {}, "--rate-limit"),
    (("serve", "--http", "--max-body-size", "10"), {}, "--max-body-size"),
    (("audit", "--limit", "0"), {}, "--limit"),
    (("serve", "--log-level", "LOUD"), {}, "--log-level"),
    (("serve", "--providers", "nope"), {}, "--providers"),
    (("accounts", "--providers", "lytics,nope"), {}, "--providers"),
    (("demo", "--providers", "nope"), {}, "--providers"),
    (("serve", "--accounts", "{tmp}/missing.toml"), {}, "accounts file"),
    (("accounts",), {"JOBS_MCP_ACCOUNTS": "{tmp}/missing.toml"}, "accounts file"),
    (("serve", "--http", "--auth-tokens", "{tmp}/missing-tokens"), {}, "--auth-tokens"),
    (("serve",), {"JOBS_MCP_TIMEOUT": "soon"}, "JOBS_MCP_TIMEOUT"),
    (("serve", "--audit-db", "{tmp}/not-sqlite.db"), {}, "not a SQLite file"),
    (("serve",), {"JOBS_MCP_AUDIT_DB": "{tmp}/not-sqlite.db"}, "JOBS_MCP_AUDIT_DB"),
    (("audit", "--audit-db", "{tmp}/not-sqlite.db"), {}, "--audit-db"),
    (("audit",), {"JOBS_MCP_AUDIT_DB": "{tmp}/not-sqlite.db"}, "--audit-db"),
    (("audit", "--audit-db", "{tmp}"), {}, "folder"),
    (("serve", "--state", "weird://x"), {}, "--state"),
    (("serve", "--state", "{tmp}/not-sqlite.db"), {}, "not a SQLite file"),
    (("serve", "--sandbox-db", "{tmp}/missing/sandbox.db"), {}, "does not exist"),
    (("sandbox", "--sandbox-db", "{tmp}/missing/sandbox.db"), {}, "does not exist"),
    (("sandbox", "--fault", "GET /v2/job:status=abc"), {}, "--fault"),
    (("sandbox", "--host", "no such host!", "--port", "0"), {}, "--host"),
    (("nonsense",), {}, "COMMAND"),
    (("serve", "--accounts", "{tmp}/typo.toml"), {}, "did you mean url?"),
    (("accounts", "--accounts", "{tmp}/typo.toml"), {}, "typo.toml"),
    (("serve", "--accounts", "{tmp}/binary.toml"), {}, "not a text file"),
    (("serve", "--accounts", "{tmp}"), {}, "accounts file"),
    (("serve",), {"JOBS_MCP_GATE_KEY": "abc"}, "too weak"),
    (("serve", "--http", "--allowed-origin", "https://app.example.com/"), {}, "--allowed-origin"),
    (("serve", "--http", "--allowed-origin", "app.example.com"), {}, "--allowed-origin"),
    (("serve", "--http", "--allowed-host", "https://mcp.example.com"), {}, "--allowed-host"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "env", "named"), WRONG_INPUT, ids=[" ".join([*e, *a]) for a, e, _ in WRONG_INPUT])
def test_wrong_input_gets_one_clear_line(
    args: tuple[str, ...], env: dict[str, str], named: str, tmp_path: Path
) -> None:
    (tmp_path / "not-sqlite.db").write_text("these are notes, not a database\n")
    (tmp_path / "typo.toml").write_text('[lytics.acme]\ntoken = "t0ken-for-a-typo"\nulr = "http://127.0.0.1:9"\n')
    (tmp_path / "binary.toml").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    fill = {"tmp": str(tmp_path)}
    result = run(*(a.format(**fill) for a in args), **{k: v.format(**fill) for k, v in env.items()})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert result.stdout == ""


@contextmanager
def port_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


@pytest.mark.slow
def test_a_port_in_use_is_refused_before_anything_is_announced(tmp_path: Path) -> None:
    with port_in_use() as port:
        sandbox = run("sandbox", "--port", str(port))
        serve = run("serve", "--http", "--port", str(port), "--audit-db", str(tmp_path / "audit.db"))
    for result in (sandbox, serve):
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
        assert "http://" not in result.stderr, "the address was printed as if serving"
    assert "--port 0" in sandbox.stderr


@pytest.mark.slow
def test_sandbox_port_0_serves_on_a_free_port_and_says_which() -> None:
    command = [str(BIN), "sandbox", "--port", "0"]
    with subprocess.Popen(command, env=child_env(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL) as proc:
        try:
            assert proc.stderr is not None
            announced = re.search(r"http://127\.0\.0\.1:(\d+)", proc.stderr.readline().decode())
            assert announced and announced.group(1) != "0"
            url = f"http://127.0.0.1:{announced.group(1)}/_sandbox/hits"
            wait_http(url, proc)
            assert httpx.get(url).status_code == 200
        finally:
            proc.terminate()


@pytest.mark.slow
def test_audit_leaves_a_sqlite_file_that_is_not_an_audit_log_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    result = run("audit", "--audit-db", str(other))
    assert result.returncode == 2 and "not an audit log" in result.stderr
    with closing(sqlite3.connect(other)) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == [("notes",)]


def serve_http_stderr(tmp_path: Path, *level: str) -> tuple[int, str]:
    """Run `serve --http` at a log level, make a few requests (one with a secret in its query), and return the
    port and everything it wrote to stderr."""
    port = free_port()
    args = ["serve", "--http", "--port", str(port), "--audit-db", str(tmp_path / "audit.db"), *level]
    with subprocess.Popen(
        [str(BIN), *args], env=child_env(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    ) as proc:
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", proc)
            assert httpx.get(f"http://127.0.0.1:{port}/healthz?s=query-secret-1234").status_code == 200
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
    return port, err.decode()


@pytest.mark.slow
def test_serve_http_prints_its_endpoint_and_logs_requests_only_when_asked(tmp_path: Path) -> None:
    port, quiet = serve_http_stderr(tmp_path)
    assert f"serving MCP on http://127.0.0.1:{port}/mcp " in quiet
    assert "GET /healthz" not in quiet and " INFO " not in quiet, quiet
    _, chatty = serve_http_stderr(tmp_path, "--log-level", "INFO")
    assert "GET /healthz HTTP/1.1" in chatty and " INFO " in chatty
    assert "query-secret-1234" not in chatty, "an access line kept a query string (approval links carry secrets)"


def lytics_tool_count() -> int:
    """How many tools `serve --providers lytics` lists (the demo's server), counted from the server itself."""
    return len(anyio.run(build_server(load_settings({}, providers="lytics")).list_tools))


def demo_steps(providers: tuple[str, ...]) -> list[tuple[str, Step]]:
    return [(name, step) for name in providers for step in registry.provider(name).demo()]


@pytest.mark.slow
def test_demo_runs_the_whole_script_on_the_sandbox_and_leaves_nothing_behind(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    demo = run("demo", TMPDIR=str(scratch))
    assert demo.returncode == 0, demo.stderr
    out = demo.stdout
    for expected in (
        "What the server tells the model",
        f"the server offers {lytics_tool_count()} tools",
        "| ID | name | workflow | status | updated |",
        "UNAUTHORIZED-017",
        "Last 24 h:",
        "Data health: UNHEALTHY",
        "PROPOSED, not done yet",
        'DONE: Pause job "Facebook high-value audience export"',  # the export whose log the person just read
        "refused, as it should be",
        "already used",
        "claude mcp add jobs",
        '"mcpServers"',
        'section "Confirming changes"',
    ):
        assert expected in out, expected
    assert out.rstrip().endswith('section "Confirming changes".'), "the demo ends with what to do next"
    assert list(scratch.iterdir()) == [], "the demo left files in the temp folder"


@pytest.mark.slow
def test_every_demo_change_acts_on_something_the_person_was_shown(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    demo = run("demo", "--providers", "all", TMPDIR=str(scratch))
    assert demo.returncode == 0, demo.stderr
    writes = {op.name for name in registry.names() for op in registry.provider(name).operations() if op.kind != "read"}
    checked = 0
    for _, step in demo_steps(registry.names()):
        if step.tool not in writes or callable(step.arguments):
            continue
        shown_before = demo.stdout.split(f"── user: {step.ask}\n", 1)[0]
        for value in step.arguments.values():
            assert str(value) in shown_before, f"{step.ask!r} acts on {value}, which the demo never showed"
        checked += 1
    assert checked >= len(registry.names())
    assert list(scratch.iterdir()) == []


@pytest.mark.slow
def test_bad_settings_exit_with_a_clear_message(tmp_path: Path) -> None:
    bad = run("serve", "--http", "--host", "0.0.0.0")
    assert bad.returncode == 2 and "loopback" in bad.stderr
    fault = run("sandbox", "--fault", "GET /v2/job:status=abc")
    assert fault.returncode == 2 and "--fault" in fault.stderr
    url = run("serve", LYTICS_API_TOKEN=CANARY, LYTICS_API_URL="ftp://nope")
    assert url.returncode == 2 and "LYTICS_API_URL" in url.stderr and CANARY not in url.stderr


def test_accounts_file(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[lytics.acme]\ntoken_env = "ACME_TOKEN"\n\n[lytics.beta]\ntoken = "t2"\nurl = "http://x"\n')
    settings = load_settings({"ACME_TOKEN": CANARY}, accounts_file=str(accounts))
    assert [a.name for a in settings.accounts] == ["acme", "beta"]
    assert CANARY not in repr(settings)
    with pytest.raises(ConfigError, match="ACME_TOKEN"):
        load_settings({}, accounts_file=str(accounts))
    with pytest.raises(ConfigError, match="not valid TOML"):
        accounts.write_text("[lytics.acme\n")
        load_settings({}, accounts_file=str(accounts))
