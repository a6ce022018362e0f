"""The command line's parser and value types: each refuses a wrong value in one line naming what it expects."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn, TypeAlias, TypeVar

from jobs_mcp.config import Settings

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

N = TypeVar("N", int, float)


class Parser(argparse.ArgumentParser):
    """argparse that reports a wrong flag or value in one line (not the whole usage block) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"  # what add_subparsers returns (a private name)


def checked(cast: Callable[[str], N], ok: Callable[[N], bool], expected: str) -> Callable[[str], N]:
    """An argparse ``type`` that converts with ``cast`` and refuses values outside ``ok`` with ``expected``."""

    def convert(text: str) -> N:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}") from None
        if not ok(value) or (isinstance(value, float) and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}")
        return value

    return convert


PORT = checked(int, lambda p: 1 <= p <= 65535, "a port: a whole number from 1 to 65535")
ANY_PORT = checked(int, lambda p: 0 <= p <= 65535, "a port: a whole number from 1 to 65535, or 0 for any free port")


def seconds(setting: str) -> Callable[[str], float]:
    """Seconds above 0 and at most what ``Settings`` allows for ``setting`` (its ``le`` bound, read from the model,
    so the flag and the setting cannot disagree)."""
    bounds = [getattr(rule, "le", None) for rule in Settings.model_fields[setting].metadata]
    limit = float(next(bound for bound in bounds if bound is not None))
    return checked(float, lambda s: 0 < s <= limit, f"a number of seconds above 0 and at most {limit:g}")


AT_LEAST_ONE = checked(int, lambda n: n >= 1, "a whole number, 1 or more")
RATE = checked(int, lambda n: n >= 0, "a whole number of requests per minute (0 turns the limit off)")
BODY_SIZE = checked(int, lambda n: n >= 1024, "a number of bytes, 1024 or more")


def log_level_option(default: str) -> Parser:
    """``--log-level``, accepted before the command (``default``) and after it (SUPPRESS: keep the first)."""
    parent = Parser(add_help=False)
    parent.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=default,
        help="stderr log level (default WARNING); accepted before or after the command",
    )
    return parent
