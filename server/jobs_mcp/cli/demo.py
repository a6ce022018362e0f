"""``jobs-mcp demo``: a scripted conversation on the sandbox through a real MCP client."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from jobs_mcp.cli.checks import check_sqlite
from jobs_mcp.cli.flags import Parser, Subcommands


def add_parser(sub: Subcommands, common: Sequence[Parser]) -> None:
    demo = sub.add_parser(
        "demo",
        parents=list(common),
        help="show the server at work: a scripted conversation on the sandbox through a real MCP client",
        description="Run a short scripted conversation through an MCP client session against the server on the "
        "embedded sandbox, printing each step: the tools, the jobs table, a failing export's log digest and "
        "the account-wide log digest. Needs no credentials and no network; leaves no files behind.",
    )
    demo.add_argument("--providers", metavar="LIST", help="platforms to show (a list, or all; default lytics)")
    demo.add_argument("--sandbox-db", metavar="PATH", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> None:
    from jobs_mcp.demo import run_demo

    check_sqlite("--sandbox-db", args.sandbox_db, makes_folder=False)
    run_demo(providers=args.providers, sandbox_db=args.sandbox_db)
