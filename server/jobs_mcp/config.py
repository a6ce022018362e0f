"""Settings: which providers and accounts exist, where they live, and how the server behaves.

Each account belongs to one provider. Credentials resolve in this order, per provider:
1. an accounts file (``--accounts PATH`` or ``JOBS_MCP_ACCOUNTS``), TOML, one table per account named
   ``[<provider>.<account>]`` (``[strait.prod]``);
2. ``<PROVIDER>_API_TOKEN`` (+ ``<PROVIDER>_API_URL`` and the provider's extras, e.g. ``OWLMETRY_TEAM_ID``) as
   the account named ``default``;
3. nothing: that provider's embedded sandbox, a simulated account that needs no network.

Which providers are enabled: ``--providers a,b`` or ``all``; without it, those that have credentials, and with
none anywhere, Lytics on its sandbox.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from jobs_mcp import registry

SANDBOX_TOKEN = "sandbox-token"
DEFAULT_PROVIDER = "lytics"

ConfirmMode = Literal["auto", "elicit", "token"]
ProofTier = Literal["low", "medium", "high"]

ACCOUNT_KEYS = ("token", "token_env", "url", "read_only", "person_proof")
"""What an account's table in the accounts file may hold, besides its provider's extras."""
MIN_GATE_KEY = 32
"""JOBS_MCP_GATE_KEY: at least this many characters (``openssl rand -hex 32`` gives 64)."""


class ConfigError(Exception):
    """Raised for settings a person has to fix; the message says how."""


class Account(BaseModel):
    """One account of one platform. The token never leaves this object except as a header."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    provider: str
    url: str
    token: SecretStr
    extras: Mapping[str, str] = Field(default_factory=dict)
    sandbox: bool = False
    token_from: str = Field(default="", description="where a person sets this token (a variable, or a file's table)")
    read_only: bool = Field(default=False, description="writes to this account are off (read_only = true in its table)")
    person_proof: ProofTier | None = None  # this account's proof tier, when stricter than the server's

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    accounts: tuple[Account, ...]
    timeout: float = Field(default=30.0, gt=0, le=600, description="seconds per HTTP call")
    read_only: bool = False
    confirm: ConfirmMode = "auto"
    allow_high_risk_ids: bool = Field(
        default=False, description="let high-risk actions be approved by confirmation id (the model could confirm)"
    )
    confirm_ttl: float = Field(default=600.0, gt=0, le=86400, description="seconds a proposal stays confirmable")
    approval_page: Literal["auto", "off"] = Field(
        default="auto", description="serve the approval page (own HTTP origin, or loopback under stdio) when needed"
    )
    approval_port: int = Field(
        default=0, ge=0, le=65535, description="the loopback approval page's port under stdio (0: any free one)"
    )
    public_url: str | None = Field(
        default=None, description="the server's address as people reach it (behind a proxy), for approval links"
    )
    gate_key: SecretStr | None = Field(default=None, description="HMAC key for confirmation ids (shared by replicas)")
    audit_db: str | None = None
    audit_keep_days: float | None = Field(
        default=None, gt=0, description="days an executed write stays in the audit log (None: for ever)"
    )
    state: str | None = Field(
        default=None, description="gate state store: a SQLite path (default: beside the audit log), memory, redis://"
    )
    sandbox_db: str | None = None
    person_proof: ProofTier = Field(
        default="high", description="the lowest risk whose approval on the page needs a passkey or passphrase"
    )
    approvers: str | None = Field(default=None, description="the approvers file (default: beside the audit log)")

    @property
    def providers(self) -> tuple[str, ...]:
        """The enabled providers, in the registry's order."""
        have = {a.provider for a in self.accounts}
        return tuple(name for name in registry.names() if name in have)

    @property
    def sandbox(self) -> bool:
        return any(a.sandbox for a in self.accounts)

    def accounts_of(self, provider: str) -> tuple[Account, ...]:
        return tuple(a for a in self.accounts if a.provider == provider)

    def account(self, provider: str, name: str | None = None) -> Account:
        mine = self.accounts_of(provider)
        if not mine:
            raise ConfigError(f"{provider} is not enabled on this server")
        if name is None:
            return mine[0]
        for account in mine:
            if account.name == name:
                return account
        raise ConfigError(f"unknown {provider} account {name!r}; configured: {', '.join(a.name for a in mine)}")


def sandbox_account(provider: str = DEFAULT_PROVIDER) -> Account:
    declared = registry.provider(provider)
    return Account(
        name="sandbox",
        provider=provider,
        url=f"http://{provider}.sandbox",
        token=SecretStr(SANDBOX_TOKEN),
        extras=dict(declared.sandbox_extras),
        sandbox=True,
    )


def _account(
    provider: str,
    name: str,
    values: Mapping[str, Any],
    where: str,
    named: Mapping[str, str] | None = None,
    token_from: str = "",
) -> Account:
    """An account from a table (file) or the environment; extras are required. ``named`` says how a person sets
    each field (e.g. url -> LYTICS_API_URL), so a problem names what to fix."""
    declared = registry.provider(provider)
    named = named or {}
    token = values.get("token")
    if not token:
        raise ConfigError(f"{where}: set the API token")
    extras = {}
    for extra in declared.extras:
        value = values.get(extra)
        if not value:
            raise ConfigError(f"{where}: {declared.title} also needs {named.get(extra, extra)}")
        extras[extra] = str(value)
    read_only = values.get("read_only", False)
    if not isinstance(read_only, bool):
        raise ConfigError(f"{where}: read_only must be true or false (no quotes)")
    try:
        return Account(
            name=name,
            provider=provider,
            url=values.get("url") or declared.default_url,
            token=SecretStr(str(token)),
            extras=extras,
            token_from=token_from,
            read_only=read_only,
            person_proof=values.get("person_proof"),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{named.get(str(e['loc'][0]), e['loc'][0])} {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from None


def _accounts_from_file(path: Path, env: Mapping[str, str]) -> dict[str, list[Account]]:
    import tomllib

    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read accounts file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"accounts file {path} is not a text file (not UTF-8 at byte {exc.start}); give the TOML file with "
            '[<platform>.<account>] tables, e.g. [lytics.acme] token_env = "ACME_TOKEN"'
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"accounts file {path} is not valid TOML: {exc}") from None
    known = registry.names()
    found: dict[str, list[Account]] = {}
    for provider, tables in doc.items():
        if provider not in known:
            raise ConfigError(
                f"accounts file {path}: [{provider}.…] is not a platform; use one table per account named "
                f'[<platform>.<account>] with platform one of {", ".join(known)}, e.g. [lytics.acme] token_env = "X"'
            )
        if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
            raise ConfigError(f"accounts file {path}: write each {provider} account as a table [{provider}.<name>]")
        for name, table in tables.items():
            values = dict(table)
            _refuse_unknown_keys(path, provider, name, values)
            token_from = f"token in [{provider}.{name}] of {path}"
            if "token_env" in values:
                token_from = str(values["token_env"])
                values["token"] = env.get(token_from)
                if not values["token"]:
                    raise ConfigError(f"account {provider}.{name}: environment variable {token_from} is unset")
            where = f"account {provider}.{name}"
            found.setdefault(provider, []).append(_account(provider, name, values, where, token_from=token_from))
    if not found:
        raise ConfigError(f'accounts file {path} defines no accounts; add e.g. [lytics.acme] token_env = "ACME_TOKEN"')
    return found


def _refuse_unknown_keys(path: Path, provider: str, name: str, values: Mapping[str, Any]) -> None:
    """A key the server does not read is refused, never ignored: ``ulr = …`` would otherwise send the token to the
    platform's default URL. The message names the key, the file and the closest key that exists."""
    allowed = (*ACCOUNT_KEYS, *registry.provider(provider).extras)
    for key in values:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ConfigError(
                f"accounts file {path}: [{provider}.{name}] {key} is not a setting; {hint}"
                f"a {provider} account takes {', '.join(allowed)}"
            )


def gate_key_problem(key: str) -> str | None:
    """Why ``key`` is too weak to sign confirmation ids, or None."""
    if len(key) < MIN_GATE_KEY or len(set(key)) < 8:
        return (
            f"JOBS_MCP_GATE_KEY is too weak to sign confirmation ids: use {MIN_GATE_KEY} or more random characters, "
            "the same on every replica, e.g. `openssl rand -hex 32`"
        )
    return None


def _accounts_from_env(provider: str, env: Mapping[str, str]) -> list[Account]:
    token_var = f"{provider.upper()}_API_TOKEN"
    if not env.get(token_var):
        return []
    declared = registry.provider(provider)
    named = {"token": token_var, "url": declared.env("api_url")} | {x: declared.env(x) for x in declared.extras}
    values = {field: env.get(variable) for field, variable in named.items()}
    return [_account(provider, "default", values, f"{token_var} is set, but", named, token_from=token_var)]


def enabled_providers(choice: str | Sequence[str] | None, with_credentials: Sequence[str]) -> tuple[str, ...]:
    """``all``, a comma-separated list, or (None) the providers with credentials, else Lytics."""
    if choice is None or choice == "" or choice == []:
        return tuple(with_credentials) or (DEFAULT_PROVIDER,)
    wanted = [p.strip().lower() for p in (choice.split(",") if isinstance(choice, str) else choice) if p.strip()]
    if "all" in wanted:  # all, with or without names: every platform (names add nothing, and are checked)
        wanted = [*registry.names(), *(p for p in wanted if p != "all")]
    unknown = [p for p in wanted if p not in registry.names()]
    if unknown or not wanted:
        raise ConfigError(
            f"--providers: unknown {', '.join(unknown) or 'list'}; choose from {', '.join(registry.names())} or all"
        )
    return tuple(dict.fromkeys(wanted))


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    providers: str | Sequence[str] | None = None,
    accounts_file: str | None = None,
    timeout: float | None = None,
    read_only: bool = False,
    confirm: ConfirmMode = "auto",
    allow_high_risk_ids: bool = False,
    confirm_ttl: float | None = None,
    approval_page: Literal["auto", "off"] = "auto",
    approval_port: int = 0,
    public_url: str | None = None,
    audit_db: str | None = None,
    audit_keep_days: float | None = None,
    state: str | None = None,
    sandbox_db: str | None = None,
    person_proof: ProofTier | None = None,
    approvers: str | None = None,
) -> Settings:
    """Resolve settings from flags (keyword arguments) over environment variables."""
    env = os.environ if env is None else env
    accounts_file = accounts_file or env.get("JOBS_MCP_ACCOUNTS")
    providers = providers or env.get("JOBS_MCP_PROVIDERS")
    if accounts_file:
        found = _accounts_from_file(Path(accounts_file).expanduser(), env)
    else:
        found = {name: accounts for name in registry.names() if (accounts := _accounts_from_env(name, env))}
    chosen = enabled_providers(providers, list(found))
    enabled = tuple(a for name in chosen for a in (found.get(name) or [sandbox_account(name)]))
    if timeout is None and env.get("JOBS_MCP_TIMEOUT"):
        try:
            timeout = float(env["JOBS_MCP_TIMEOUT"])
        except ValueError:
            raise ConfigError("JOBS_MCP_TIMEOUT must be a number of seconds") from None
    gate_key = env.get("JOBS_MCP_GATE_KEY") or None
    if gate_key is not None and (weak := gate_key_problem(gate_key)):
        raise ConfigError(weak)
    try:
        return Settings(
            accounts=enabled,
            timeout=30.0 if timeout is None else timeout,
            read_only=read_only,
            confirm=confirm,
            allow_high_risk_ids=allow_high_risk_ids,
            confirm_ttl=600.0 if confirm_ttl is None else confirm_ttl,
            approval_page=approval_page,
            approval_port=approval_port,
            public_url=public_url,
            gate_key=SecretStr(gate_key) if gate_key is not None else None,
            audit_db=audit_db or env.get("JOBS_MCP_AUDIT_DB"),
            audit_keep_days=audit_keep_days,
            state=state or env.get("JOBS_MCP_STATE"),
            sandbox_db=sandbox_db,
            person_proof=person_proof or env.get("JOBS_MCP_PERSON_PROOF") or "high",
            approvers=approvers or env.get("JOBS_MCP_APPROVERS"),
        )
    except ValidationError as exc:
        raise ConfigError("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
