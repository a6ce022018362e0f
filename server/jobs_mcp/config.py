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

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from jobs_mcp import registry

SANDBOX_TOKEN = "sandbox-token"
DEFAULT_PROVIDER = "lytics"

ConfirmMode = Literal["auto", "elicit", "token"]


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
    gate_key: SecretStr | None = Field(default=None, description="HMAC key for confirmation ids (shared by replicas)")
    audit_db: str | None = None
    state: str | None = Field(
        default=None, description="gate state store: a SQLite path (default: beside the audit log), memory, redis://"
    )
    sandbox_db: str | None = None

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
    provider: str, name: str, values: Mapping[str, Any], where: str, named: Mapping[str, str] | None = None
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
    try:
        return Account(
            name=name,
            provider=provider,
            url=values.get("url") or declared.default_url,
            token=SecretStr(str(token)),
            extras=extras,
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
        raise ConfigError(f"cannot read accounts file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"accounts file {path} is not valid TOML: {exc}") from exc
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
            if "token_env" in values:
                values["token"] = env.get(str(values["token_env"]))
                if not values["token"]:
                    raise ConfigError(f"account {provider}.{name}: environment variable {values['token_env']} is unset")
            found.setdefault(provider, []).append(_account(provider, name, values, f"account {provider}.{name}"))
    if not found:
        raise ConfigError(f'accounts file {path} defines no accounts; add e.g. [lytics.acme] token_env = "ACME_TOKEN"')
    return found


def _accounts_from_env(provider: str, env: Mapping[str, str]) -> list[Account]:
    token_var = f"{provider.upper()}_API_TOKEN"
    if not env.get(token_var):
        return []
    declared = registry.provider(provider)
    named = {"token": token_var, "url": declared.env("api_url")} | {x: declared.env(x) for x in declared.extras}
    values = {field: env.get(variable) for field, variable in named.items()}
    return [_account(provider, "default", values, f"{token_var} is set, but", named)]


def enabled_providers(choice: str | Sequence[str] | None, with_credentials: Sequence[str]) -> tuple[str, ...]:
    """``all``, a comma-separated list, or (None) the providers with credentials, else Lytics."""
    if choice is None or choice == "" or choice == []:
        return tuple(with_credentials) or (DEFAULT_PROVIDER,)
    wanted = [p.strip().lower() for p in (choice.split(",") if isinstance(choice, str) else choice) if p.strip()]
    if wanted == ["all"]:
        return registry.names()
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
    audit_db: str | None = None,
    state: str | None = None,
    sandbox_db: str | None = None,
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
    try:
        return Settings(
            accounts=enabled,
            timeout=30.0 if timeout is None else timeout,
            read_only=read_only,
            confirm=confirm,
            allow_high_risk_ids=allow_high_risk_ids,
            confirm_ttl=600.0 if confirm_ttl is None else confirm_ttl,
            approval_page=approval_page,
            gate_key=SecretStr(env["JOBS_MCP_GATE_KEY"]) if env.get("JOBS_MCP_GATE_KEY") else None,
            audit_db=audit_db or env.get("JOBS_MCP_AUDIT_DB"),
            state=state or env.get("JOBS_MCP_STATE"),
            sandbox_db=sandbox_db,
        )
    except ValidationError as exc:
        raise ConfigError("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
