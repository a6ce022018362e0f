"""Checks that need more than one flag, made before anything starts: files and addresses. Each refusal is a
``ConfigError`` whose one line says what to do instead."""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Sequence
from pathlib import Path

from jobs_mcp.config import ConfigError, Settings

SQLITE_HEADER = b"SQLite format 3\x00"
# A browser Origin: scheme, host and optional port (or :* for any), nothing after it. Browsers send exactly this.
ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(:(\d{1,5}|\*))?$")
HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")


def _sqlite_problem(path: Path, *, makes_folder: bool) -> str | None:
    """Why ``path`` cannot be a SQLite file this server uses, or None (a missing file is created when needed;
    its folder too when ``makes_folder``)."""
    if path.is_dir():
        return f"is a folder; give a file path, e.g. {path / 'jobs-mcp.db'}"
    if not makes_folder and not path.parent.is_dir():
        return f"is in a folder that does not exist ({path.parent}); create it or choose another path"
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if head and head != SQLITE_HEADER:
        return "is not a SQLite file; give a new path or a file jobs-mcp wrote"
    return None


def check_sqlite(setting: str, value: str | None, *, makes_folder: bool) -> None:
    problem = _sqlite_problem(Path(value).expanduser(), makes_folder=makes_folder) if value else None
    if problem:
        raise ConfigError(f"{setting} {value}: {problem}")


def _state_file(state: str) -> str | None:
    """The SQLite file a ``--state`` value names (as ``state.open_store`` reads it), or None for other stores."""
    if state in ("", "memory") or state.startswith(("redis://", "rediss://")):
        return None
    if state.startswith("sqlite://"):
        return state.removeprefix("sqlite://")
    if "://" in state:
        raise ConfigError(
            f"--state / JOBS_MCP_STATE {state.split('://')[0]}://… is not a state store; use memory, a file path, "
            "sqlite:///path/state.db or redis://host:port/db"
        )
    path = Path(state).expanduser()
    return str(path / "state.db") if path.is_dir() else state  # a folder gets state.db inside


def check_files(settings: Settings) -> None:
    """Refuse at start what would otherwise fail only at the first write or sandbox call."""
    check_sqlite("--audit-db / JOBS_MCP_AUDIT_DB", settings.audit_db, makes_folder=True)
    check_sqlite("--state / JOBS_MCP_STATE", _state_file((settings.state or "").strip()), makes_folder=True)
    check_sqlite("--sandbox-db", settings.sandbox_db, makes_folder=False)


def _bind_problem(host: str, port: int, exc: OSError, ephemeral: bool) -> str:
    if exc.errno == errno.EADDRINUSE:
        other = "choose another with --port N" + (", or --port 0 for any free port" if ephemeral else "")
        return f"port {port} on {host} is already in use (another server, or an earlier one still running): {other}"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} (ports below 1024 need privileges): choose one above 1023"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine: use 127.0.0.1 or one of its own addresses"
    return f"cannot listen on {host} port {port} ({exc.strerror or exc}): check --host and --port"


def listen(host: str, port: int, *, ephemeral: bool) -> socket.socket:
    """A socket bound to ``host:port`` (as uvicorn binds it), or a ConfigError that says what to do."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--host {host}: not a usable address ({exc}); use e.g. 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(_bind_problem(host, port, exc, ephemeral)) from None
    return sock


def public_url(url: str | None) -> str | None:
    """``--public-url`` as an origin approval links start with, or a ConfigError saying how to write it."""
    if url is None:
        return None
    match = ORIGIN.match(url.rstrip("/"))
    if match is None or match.group(3) == "*":
        raise ConfigError(
            f"--public-url {url!r}: write the address people open, scheme://host[:port] with no path, e.g. "
            "https://mcp.example.com"
        )
    return url.rstrip("/")


def check_origins(origins: Sequence[str], hosts: Sequence[str]) -> None:
    """Refuse an --allowed-origin or --allowed-host that could never match what a browser or client sends (a path,
    a trailing slash, no scheme), instead of a check that silently refuses everyone."""
    for origin in origins:
        match = ORIGIN.match(origin)
        port = match.group(3) if match else None
        if match is None or (port not in (None, "*") and not 1 <= int(port) <= 65535):
            raise ConfigError(
                f"--allowed-origin {origin!r} is not an origin: write scheme://host[:port] with nothing after it "
                "(no path, no trailing slash), e.g. https://app.example.com or http://localhost:5173"
            )
    for host in hosts:
        if not HOST.match(host):
            raise ConfigError(
                f"--allowed-host {host!r} is not a host name: write the name alone, e.g. mcp.example.com "
                "(no scheme or path; no port either: every port of that host is allowed)"
            )
