"""``jobs-mcp approver``: enroll the person who approves permanent actions, in their own terminal.

- ``status``: who is enrolled, with which passkeys and whether a passphrase is set (nothing secret is shown).
- ``enroll``: make a passkey on a loopback page (``http://localhost:PORT/…``) the person opens in their browser.
- ``passphrase``: set or change the approver passphrase, typed without echo.
- ``remove ID``: remove a passkey.

Every change after the first needs a credential that exists already: the current passphrase (typed here), or
one of the person's passkeys (on the loopback page). The commands that change something read only from a
terminal, never from a pipe: they decide who can approve what the model proposes, so a script (or a model
with a shell) should not run them for the person. That is a speed bump, not a wall: see the README for what a
same-user shell can and cannot do.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import sys
import termios
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio

from jobs_mcp.approvers import (
    MIN_PASSPHRASE,
    Approver,
    ApproverFile,
    ApproverFileError,
    Passkey,
    default_approvers_path,
)
from jobs_mcp.config import ConfigError
from jobs_mcp.principal import LOCAL

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

WAIT_SECONDS = 300.0


def add_parser(sub: Any, common: Sequence[argparse.ArgumentParser]) -> None:
    approver = sub.add_parser(
        "approver",
        parents=list(common),
        help="enroll the person who approves permanent actions (passkey or passphrase)",
        description="Enroll the person who approves permanent actions, in your own terminal. Permanent and bulk "
        "actions proposed through a client that cannot ask the person (no elicitation) are approved on the approval "
        "page only with one of the person's passkeys or their approver passphrase. Adding or changing a credential "
        "later needs one that exists.",
    )
    steps = approver.add_subparsers(dest="step", metavar="STEP", required=True)
    for name, text in (
        ("status", "who is enrolled (passkeys and whether a passphrase is set)"),
        ("enroll", "make a passkey for approving, on a loopback page opened in your browser"),
        ("passphrase", "set or change the approver passphrase (typed here, without echo)"),
        ("remove", "remove a passkey (needs your passphrase or one of your passkeys)"),
    ):
        step = steps.add_parser(name, help=text, description=text)
        step.add_argument(
            "--principal",
            default=LOCAL,
            help="whose approver: the principal of an --auth-tokens line; default local (the person at this machine)",
        )
        step.add_argument("--approvers", metavar="PATH", help="the approvers file (default: beside the audit log)")
        step.add_argument("--audit-db", metavar="PATH", help=argparse.SUPPRESS)
        if name == "enroll":
            step.add_argument("--label", default="passkey", help="a name for this passkey (e.g. laptop)")
        if name in ("enroll", "remove", "passphrase"):
            step.add_argument("--no-browser", action="store_true", help="print the page's link, do not open it")
        if name == "remove":
            step.add_argument("passkey", metavar="ID", help="the passkey's id (its first characters, as status shows)")


def run(args: argparse.Namespace) -> None:
    path = args.approvers or os.environ.get("JOBS_MCP_APPROVERS")
    file = ApproverFile(path or default_approvers_path(args.audit_db or os.environ.get("JOBS_MCP_AUDIT_DB")))
    try:
        if args.step == "status":
            _status(file)
            return
        _need_a_terminal(args.step)
        person = args.principal
        approver = file.get(person)
        if args.step == "enroll":
            _enroll(file, person, approver, args)
        elif args.step == "passphrase":
            _passphrase(file, person, approver, args)
        else:
            _remove(file, person, approver, args)
    except ApproverFileError as exc:
        raise ConfigError(str(exc)) from None


def _status(file: ApproverFile) -> None:
    approvers = file.load()
    if not approvers:
        print(f"No approver is enrolled ({file.path}). Enroll with: jobs-mcp approver enroll")
        return
    for person, approver in sorted(approvers.items()):
        said = "passphrase set" if approver.passphrase else "no passphrase"
        print(f"{person}: {len(approver.passkeys)} passkey(s), {said}")
        for key in approver.passkeys:
            print(f"  {key.short}  {key.label}  for {key.rp_id}, added {key.added}")


def _need_a_terminal(step: str) -> None:
    if not sys.stdin.isatty():
        raise ConfigError(
            f"approver {step} changes who can approve permanent actions, so it runs only in a terminal, typed by "
            "you (not from a pipe or a script). Run it yourself in a terminal."
        )


def _secret(prompt: str) -> str:
    """A line read from the terminal without echo."""
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[3] &= ~termios.ECHO
    print(prompt, end="", file=sys.stderr, flush=True)
    try:
        termios.tcsetattr(fd, termios.TCSADRAIN, new)
        line = sys.stdin.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
        print(file=sys.stderr)
    if not line:
        raise ConfigError("no input; nothing was changed")
    return line.rstrip("\r\n")


def _prove(file: ApproverFile, person: str, approver: Approver, args: argparse.Namespace, why: str) -> None:
    """An existing credential first: the passphrase typed here, else a passkey on the loopback page."""
    if approver.passphrase:
        if not approver.check_passphrase(_secret(f"Current approver passphrase for {person}: ")):
            raise ConfigError("that is not the approver passphrase; nothing was changed")
        return
    _ceremony(person, approver, args, prove=True, create=False, what=f"Use your passkey to {why}")


def _enroll(file: ApproverFile, person: str, approver: Approver, args: argparse.Namespace) -> None:
    if approver.passphrase:  # proven here; else the page asks for one of their passkeys first (if any)
        _prove(file, person, approver, args, "add a passkey")
    prove = bool(approver.passkeys) and not approver.passphrase
    key = _ceremony(person, approver, args, prove=prove, create=True, what="Make a passkey for approving")
    assert key is not None
    current = file.get(person)
    current.passkeys.append(key)
    file.update(person, current)
    print(f"Passkey {key.label!r} ({key.short}) enrolled for approver {person}, for pages on {key.rp_id}.")


def _passphrase(file: ApproverFile, person: str, approver: Approver, args: argparse.Namespace) -> None:
    if approver.enrolled:
        _prove(file, person, approver, args, "change the approver passphrase")
    new = _secret(f"New approver passphrase for {person} (at least {MIN_PASSPHRASE} characters): ")
    if len(new) < MIN_PASSPHRASE:
        raise ConfigError(f"the passphrase must be at least {MIN_PASSPHRASE} characters; nothing was changed")
    if _secret("The same again: ") != new:
        raise ConfigError("the two did not match; nothing was changed")
    current = file.get(person)
    current.set_passphrase(new)
    file.update(person, current)
    print(f"Approver passphrase {'changed' if approver.passphrase else 'set'} for {person}.")


def _remove(file: ApproverFile, person: str, approver: Approver, args: argparse.Namespace) -> None:
    matches = [k for k in approver.passkeys if k.id.startswith(args.passkey)]
    if len(matches) != 1:
        found = "no passkey" if not matches else f"{len(matches)} passkeys"
        raise ConfigError(f"{found} of {person} start with {args.passkey!r}; `jobs-mcp approver status` lists them")
    _prove(file, person, approver, args, f"remove passkey {matches[0].label!r}")
    current = file.get(person)
    current.passkeys = [k for k in current.passkeys if k.id != matches[0].id]
    file.update(person, current)
    left = "" if current.enrolled else " No approver credential is left: permanent actions wait until you enroll."
    print(f"Passkey {matches[0].label!r} removed for {person}.{left}")


# --- the loopback page --------------------------------------------------------------------------------------------


def _ceremony(
    person: str, approver: Approver, args: argparse.Namespace, *, prove: bool, create: bool, what: str
) -> Passkey | None:
    """Serve the passkey page on loopback until the person used it (or WAIT_SECONDS passed): with ``prove``, one of
    their passkeys first; with ``create``, then a new passkey, which is returned."""
    if prove and not approver.passkeys:
        raise ConfigError(f"{person} has no passkey to prove with; nothing was changed")
    return anyio.run(_serve_ceremony, person, approver, args, prove, create, what)


async def _serve_ceremony(
    person: str, approver: Approver, args: argparse.Namespace, prove: bool, create: bool, what: str
) -> Passkey | None:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from jobs_mcp.approval_page import quiet_server, read_form
    from jobs_mcp.page_html import HEADERS, enroll_page, message_page
    from jobs_mcp.passkeys import (
        Origin,
        PasskeyRefused,
        approval_options,
        enrollment_options,
        verify_approval,
        verify_enrollment,
    )

    token = secrets.token_urlsafe(16)
    get_challenge, create_challenge = secrets.token_bytes(32), secrets.token_bytes(32)
    done = anyio.Event()
    made: list[Passkey] = []

    def html(text: str, status: int = 200) -> Response:
        return HTMLResponse(text, status_code=status, headers=HEADERS)

    async def page(request: Request) -> Response:
        where = Origin(f"http://{request.headers.get('host', '')}")
        if request.path_params["token"] != token:
            return html(message_page("Not this page", "This link is not the one the command printed."), 404)
        get = approval_options(approver, where, get_challenge) if prove else None
        if prove and get is None:
            note = f"Your passkeys are for {', '.join(sorted({k.rp_id for k in approver.passkeys}))}."
            return html(message_page("Open the printed link", f"Open the exact link the command printed. {note}"), 400)
        if request.method == "GET":
            new = enrollment_options(approver, person, where, create_challenge) if create else ""
            return html(enroll_page(f"/approver/{token}", person, get, new, what))
        form = await read_form(request)
        try:
            if get is not None:
                verify_approval(approver, where, get_challenge, form.get("assertion", ""))
            if create:
                made.append(verify_enrollment(where, create_challenge, form.get("attestation", ""), args.label))
        except PasskeyRefused as exc:
            return html(message_page("Not done", f"{exc} Nothing was changed; run the command again."), 403)
        done.set()
        return html(message_page("Done", "You can close this page and go back to the terminal."))

    app = Starlette(
        routes=[Route("/approver/{token}", page, methods=["GET", "POST"])],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["localhost"])],
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections wait for the server from now on: the link works as soon as it is printed
    url = f"http://localhost:{sock.getsockname()[1]}/approver/{token}"
    server = quiet_server(app)
    print(f"{what}: open {url} in your browser (waiting {WAIT_SECONDS / 60:g} minutes; Ctrl-C stops).", flush=True)
    if not args.no_browser:
        import webbrowser

        with contextlib.suppress(Exception):
            webbrowser.open(url)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve, [sock])
        with anyio.move_on_after(WAIT_SECONDS):
            await done.wait()
        server.should_exit = True
    sock.close()
    if not done.is_set():
        raise ConfigError("the page was not used in time; nothing was changed")
    return made[0] if made else None
