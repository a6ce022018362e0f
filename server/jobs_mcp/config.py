"""Settings: which accounts exist, where they live, and how the server behaves.

Credentials resolve in this order:
1. an accounts file (``--accounts PATH`` or ``JOBS_MCP_ACCOUNTS``), TOML, one table per account;
2. ``LYTICS_API_TOKEN`` (+ optional ``LYTICS_API_URL``) as the account named ``default``;
3. nothing: the embedded sandbox, a simulated Lytics account that needs no network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

DEFAULT_LYTICS_URL = "https://api.lytics.io"
SANDBOX_URL = "http://lytics.sandbox"
SANDBOX_TOKEN = "sandbox-token"

ConfirmMode = Literal["auto", "elicit", "token"]


class ConfigError(Exception):
    """Raised for settings a person has to fix; the message says how."""


class Account(BaseModel):
    """One Lytics account the server may talk to. The token never leaves this object except as a header."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    url: str = DEFAULT_LYTICS_URL
    token: SecretStr
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
    confirm_ttl: float = Field(default=600.0, gt=0, le=86400, description="seconds a proposal stays confirmable")
    gate_key: SecretStr | None = Field(default=None, description="HMAC key for confirmation ids (shared by replicas)")
    audit_db: str | None = None
    sandbox_db: str | None = None

    @property
    def sandbox(self) -> bool:
        return any(a.sandbox for a in self.accounts)

    def account(self, name: str | None) -> Account:
        if name is None:
            return self.accounts[0]
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts)
        raise ConfigError(f"unknown account {name!r}; configured accounts: {known}")


def sandbox_account() -> Account:
    return Account(name="sandbox", url=SANDBOX_URL, token=SecretStr(SANDBOX_TOKEN), sandbox=True)


def _accounts_from_file(path: Path, env: Mapping[str, str]) -> tuple[Account, ...]:
    import tomllib

    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read accounts file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"accounts file {path} is not valid TOML: {exc}") from exc
    tables = doc.get("accounts", doc)
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f'accounts file {path} defines no accounts; add e.g. [accounts.acme] token_env = "ACME"')
    accounts = []
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"accounts file {path}: [{name}] must be a table")
        token = table.get("token")
        if token is None and "token_env" in table:
            token = env.get(str(table["token_env"]))
            if not token:
                raise ConfigError(f"account {name!r}: environment variable {table['token_env']} is empty or unset")
        if not token:
            raise ConfigError(f"account {name!r}: set token or token_env in {path}")
        try:
            accounts.append(Account(name=name, url=table.get("url", DEFAULT_LYTICS_URL), token=SecretStr(str(token))))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"account {name!r} in {path}: {problems}") from None
    return tuple(accounts)


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    accounts_file: str | None = None,
    timeout: float | None = None,
    read_only: bool = False,
    confirm: ConfirmMode = "auto",
    confirm_ttl: float | None = None,
    audit_db: str | None = None,
    sandbox_db: str | None = None,
) -> Settings:
    """Resolve settings from flags (keyword arguments) over environment variables."""
    env = os.environ if env is None else env
    accounts_file = accounts_file or env.get("JOBS_MCP_ACCOUNTS")
    if accounts_file:
        accounts = _accounts_from_file(Path(accounts_file).expanduser(), env)
    elif env.get("LYTICS_API_TOKEN"):
        url = env.get("LYTICS_API_URL") or DEFAULT_LYTICS_URL
        try:
            accounts = (Account(name="default", url=url, token=SecretStr(env["LYTICS_API_TOKEN"])),)
        except ValidationError:
            raise ConfigError(f"LYTICS_API_URL must start with http:// or https:// (got {url!r})") from None
    else:
        accounts = (sandbox_account(),)
    if timeout is None and env.get("JOBS_MCP_TIMEOUT"):
        try:
            timeout = float(env["JOBS_MCP_TIMEOUT"])
        except ValueError:
            raise ConfigError("JOBS_MCP_TIMEOUT must be a number of seconds") from None
    try:
        return Settings(
            accounts=accounts,
            timeout=30.0 if timeout is None else timeout,
            read_only=read_only,
            confirm=confirm,
            confirm_ttl=600.0 if confirm_ttl is None else confirm_ttl,
            gate_key=SecretStr(env["JOBS_MCP_GATE_KEY"]) if env.get("JOBS_MCP_GATE_KEY") else None,
            audit_db=audit_db or env.get("JOBS_MCP_AUDIT_DB"),
            sandbox_db=sandbox_db,
        )
    except ValidationError as exc:
        raise ConfigError("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
