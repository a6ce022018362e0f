"""The flags that make the server's ``Settings`` (``serve``; ``accounts`` takes the account flags only), and
``settings_from``, which turns them into checked settings."""

from __future__ import annotations

import argparse

from jobs_mcp.cli.checks import check_files, public_url
from jobs_mcp.cli.flags import ANY_PORT, checked, seconds
from jobs_mcp.cli.help_text import AUDIT_HELP, PROVIDERS_HELP
from jobs_mcp.config import Settings, load_settings


def account_options(p: argparse.ArgumentParser) -> None:
    """Which accounts: the same flags for ``serve`` and ``accounts``."""
    p.add_argument("--providers", metavar="LIST", help=PROVIDERS_HELP)
    p.add_argument("--accounts", metavar="PATH", help="TOML accounts file (one [PLATFORM.ACCOUNT] table each)")
    p.add_argument("--timeout", type=seconds("timeout"), metavar="SECONDS", help="per-call HTTP timeout (default 30)")


def server_options(p: argparse.ArgumentParser) -> None:
    account_options(p)
    p.add_argument("--read-only", action="store_true", help="register read tools only (no write or lifecycle tools)")
    p.add_argument(
        "--confirm",
        choices=["auto", "elicit", "token"],
        default="auto",
        help="how writes are approved: elicit asks the person through the client; token returns a proposal with a "
        "confirmation id for confirm_action; auto (default) elicits where the client can, else uses the token",
    )
    p.add_argument(
        "--allow-high-risk-ids",
        action="store_true",
        help="let high-risk actions (kill, delete, batch) be approved with a confirmation id when the client cannot "
        "ask the person; weaker: the model could call confirm_action itself (a warning is logged at start-up)",
    )
    p.add_argument(
        "--approval-page",
        choices=["auto", "off"],
        default="auto",
        help="auto (default): when the client cannot ask the person, writes are approved on a page the server "
        "serves (its own HTTP origin, or loopback 127.0.0.1 under stdio, started on first need); off: no page",
    )
    p.add_argument(
        "--approval-port",
        type=ANY_PORT,
        default=0,
        metavar="PORT",
        help="under stdio, serve the approval page on this loopback port (default 0: any free one), so its "
        "address stays the same across restarts",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the server's address as people reach it, e.g. https://mcp.example.com behind a proxy: approval "
        "links use it, and its host is allowed like --allowed-host",
    )
    p.add_argument(
        "--person-proof",
        choices=["low", "medium", "high"],
        help="the lowest risk whose approval on the page needs the person's passkey or approver passphrase "
        "(default high; an account's person_proof may lower it; env JOBS_MCP_PERSON_PROOF)",
    )
    p.add_argument(
        "--approvers",
        metavar="PATH",
        help="the approvers file that `jobs-mcp approver` writes (default: approvers.json beside the audit log)",
    )
    p.add_argument(
        "--confirm-ttl",
        type=seconds("confirm_ttl"),
        metavar="SECONDS",
        help="how long a proposal stays valid (default 600)",
    )
    p.add_argument("--audit-db", metavar="PATH", help=AUDIT_HELP)
    p.add_argument(
        "--audit-keep-days",
        type=checked(float, lambda d: d > 0, "a number of days above 0"),
        metavar="DAYS",
        help="drop an executed write's audit rows once it is older than this (default: keep everything; about "
        "350 KiB a minute under heavy load); a write whose outcome is unknown is always kept",
    )
    p.add_argument(
        "--state",
        metavar="SPEC",
        help="where pending proposals live: a SQLite file (default: state.db beside the audit log, so they survive "
        "a restart), memory, or redis://host:port/db for replicas (needs JOBS_MCP_GATE_KEY)",
    )
    p.add_argument("--sandbox-db", metavar="PATH", help="keep sandbox state in this SQLite file (default: memory)")


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings the flags (and the environment) give, with their files checked now."""
    settings = load_settings(
        providers=getattr(args, "providers", None),
        accounts_file=getattr(args, "accounts", None),
        timeout=getattr(args, "timeout", None),
        read_only=getattr(args, "read_only", False),
        confirm=getattr(args, "confirm", "auto"),
        allow_high_risk_ids=getattr(args, "allow_high_risk_ids", False),
        confirm_ttl=getattr(args, "confirm_ttl", None),
        approval_page=getattr(args, "approval_page", "auto"),
        approval_port=getattr(args, "approval_port", 0),
        public_url=public_url(getattr(args, "public_url", None)),
        audit_db=getattr(args, "audit_db", None),
        audit_keep_days=getattr(args, "audit_keep_days", None),
        state=getattr(args, "state", None),
        sandbox_db=getattr(args, "sandbox_db", None),
        person_proof=getattr(args, "person_proof", None),
        approvers=getattr(args, "approvers", None),
    )
    check_files(settings)
    return settings
