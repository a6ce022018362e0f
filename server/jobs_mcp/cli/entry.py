"""The entry point: the parser with every command registered in one loop, logging to stderr through the
scrubber, and one line and an exit code for whatever goes wrong (2 for a wrong setting, 130 for Ctrl-C, 141 for
a reader that went away)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Protocol

from jobs_mcp import __version__
from jobs_mcp.cli import accounts, approver, audit, demo, sandbox, serve
from jobs_mcp.cli.flags import Parser, Subcommands, log_level_option
from jobs_mcp.cli.help_text import DESCRIPTION, ENVIRONMENT
from jobs_mcp.config import ConfigError


class Command(Protocol):
    """What a command module offers: its parser, and what it runs."""

    def add_parser(self, sub: Subcommands, common: Sequence[Parser]) -> None: ...

    def run(self, args: argparse.Namespace) -> None: ...


# In the order `jobs-mcp --help` lists them; each module's name is its command's.
COMMANDS: dict[str, Command] = {
    "serve": serve,
    "accounts": accounts,
    "demo": demo,
    "audit": audit,
    "sandbox": sandbox,
    "approver": approver,
}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="jobs-mcp",
        description=DESCRIPTION,
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[log_level_option("WARNING")],
    )
    parser.add_argument("--version", action="version", version=f"jobs-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common: list[Parser] = [log_level_option(argparse.SUPPRESS)]
    for command in COMMANDS.values():
        command.add_parser(sub, common)
    return parser


def _scrubbed(record: logging.LogRecord) -> bool:
    """Log lines pass through the same scrubber as every answer: no credential reaches stderr."""
    from jobs_mcp.textsafe import scrub

    record.msg, record.args = scrub(record.getMessage()), None
    return True


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_scrubbed)
    command = COMMANDS.get(args.command or "")
    if command is None:
        parser.print_help()
        sys.exit(2)
    try:
        command.run(args)
    except ConfigError as exc:
        print(f"jobs-mcp: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except BaseException as exc:
        if not _broken_pipe(exc):
            raise
        # The reader went away (`jobs-mcp demo | head`): stop quietly, as other commands do. Python would
        # otherwise complain again while flushing stdout at exit, so stdout now leads nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a command cut off by its pipe


def _broken_pipe(exc: BaseException) -> bool:
    """Whether ``exc`` is (or, from a task group, only holds) a broken pipe."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_broken_pipe(inner) for inner in exc.exceptions)
    return isinstance(exc, BrokenPipeError)
