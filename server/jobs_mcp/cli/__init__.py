"""The ``jobs-mcp`` command. Logging goes to stderr only: in stdio mode stdout is the protocol.

Every wrong input ends in one line on stderr saying what to fix, and a non-zero exit: 2 for a wrong flag, value
or setting, 1 when ``accounts`` finds an account that does not answer. Never a traceback.

One module per command (``serve``, ``accounts``, ``demo``, ``audit``, ``sandbox``, ``approver``), each with its
``add_parser`` and ``run``; ``entry`` registers them in one loop and runs the chosen one. Shared parts: ``flags``
(value types and shared flags), ``help_text``, ``server_settings`` (the flags that make ``Settings``) and
``checks`` (files and addresses refused at start).
"""

from jobs_mcp.cli.entry import build_parser, main

__all__ = ["build_parser", "main"]
