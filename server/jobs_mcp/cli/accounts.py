"""``jobs-mcp accounts``: list the accounts ``serve`` would use and check that each answers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from jobs_mcp.cli.flags import Parser, Subcommands
from jobs_mcp.cli.help_text import ENVIRONMENT
from jobs_mcp.cli.server_settings import account_options, settings_from


def add_parser(sub: Subcommands, common: Sequence[Parser]) -> None:
    accounts = sub.add_parser(
        "accounts",
        parents=list(common),
        help="list the configured accounts per platform and check that each answers (one read-only call each)",
        description="List the accounts `jobs-mcp serve` would use (same --providers, --accounts and environment),\n"
        "say which are sandboxes (simulated), and check each with one cheap read-only call.\n"
        "Tokens are never printed. Exits 1 when an account does not answer.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    account_options(accounts)


def run(args: argparse.Namespace) -> None:
    import anyio

    from jobs_mcp.accounts import check_accounts

    settings = settings_from(args)
    rows = anyio.run(check_accounts, settings)
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, where, verdict in rows:
        print(f"{name:<{widths[0]}}  {where:<{widths[1]}}  {verdict}")
    failed = sum(verdict.startswith("FAILED") for _, _, verdict in rows)
    if failed:
        print(
            f"jobs-mcp: {failed} of {len(rows)} account(s) did not answer: fix the token, URL or extras named above "
            "(environment or --accounts file), then run jobs-mcp accounts again",
            file=sys.stderr,
        )
        sys.exit(1)
