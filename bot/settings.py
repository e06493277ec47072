"""Configuration from environment variables.

Every setting is read once, at start-up, into an immutable `Settings`. A command names the
settings it cannot run without; missing or malformed ones stop it with one line each that
names the variable and says what to put there, instead of a stack trace later.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.domain.plans import DEFAULT_INELIGIBLE_CLASSES, DEFAULT_INELIGIBLE_EDITIONS, PlanPolicy
from bot.domain.tiers import XeroTier

_T = TypeVar("_T")

DEFAULT_XERO_SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts.read"
)


class SettingsError(Exception):
    """Settings are missing or malformed; the message, one line per problem, is meant for the
    operator, and names every problem at once so that one run shows them all."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = field(default_factory=lambda: default_database_url(Path.cwd()), repr=False)
    public_base_url: str = ""
    token_encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    xero_client_id: str = ""
    xero_client_secret: str = field(default="", repr=False)
    xero_scopes: tuple[str, ...] = tuple(DEFAULT_XERO_SCOPES.split())
    xero_authorize_url: str = "https://login.xero.com/identity/connect/authorize"
    xero_token_url: str = "https://identity.xero.com/connect/token"  # noqa: S105
    xero_revoke_url: str = "https://identity.xero.com/connect/revocation"
    xero_api_url: str = "https://api.xero.com"
    cloudpos_api_url: str = "https://api.cloudpos.example"
    consent_link_lifetime: timedelta = timedelta(hours=72)
    web_rate_limit_per_minute: int = 60
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1",)
    """Proxies whose X-Forwarded-For / -Proto headers are believed; empty: no proxy."""
    slack_bot_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_api_url: str = "https://slack.com/api/"
    slack_alerts_channel: str = ""
    """The channel (id) that hears of broken stores; empty: alerts are only logged."""
    helpdesk_users: frozenset[str] = frozenset()
    helpdesk_usergroup: str = ""
    admin_users: frozenset[str] = frozenset()
    admin_usergroup: str = ""
    ineligible_plans: tuple[str, ...] = tuple(sorted(DEFAULT_INELIGIBLE_CLASSES))
    ineligible_editions: tuple[str, ...] = tuple(sorted(DEFAULT_INELIGIBLE_EDITIONS))
    metrics_token: str = field(default="", repr=False)
    scheduled_jobs: bool = True
    """Whether `serve` runs the scheduled jobs (keep-alive, the connection check) too."""
    connection_check_interval: timedelta = timedelta(hours=6)
    consent_reminder_after: timedelta | None = timedelta(hours=24)
    """How long a link waits before its issuer is reminded; None: no reminders."""
    xero_app_tier: XeroTier = XeroTier.STARTER
    sync_webhook_url: str = ""
    sync_webhook_secret: str = field(default="", repr=False)
    """The app's Xero tier, whose connection limit issuing a link warns about from 80%."""

    @property
    def plan_policy(self) -> PlanPolicy:
        return PlanPolicy.from_names(
            classes=self.ineligible_plans, editions=self.ineligible_editions
        )

    @property
    def xero_redirect_uri(self) -> str:
        """The OAuth redirect URI registered with the Xero app."""
        return f"{self.public_base_url}/xero/callback"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, required: Iterable[str] = ()
    ) -> Settings:
        """Read settings from `environ` (default: the process environment).

        `required` names the variables the calling command cannot run without.
        """
        env = os.environ if environ is None else environ
        problems = [
            f"{name} is not set. {_HINTS.get(name, '')}".strip()
            for name in dict.fromkeys(required)
            if not env.get(name, "").strip()
        ]

        def get(name: str, default: str) -> str:
            return env.get(name, "").strip() or default

        def parse(check: Callable[[str, str], _T], name: str, default: str) -> _T:
            """Every malformed setting is collected, so one run names them all."""
            try:
                return check(name, get(name, default))
            except SettingsError as error:
                problems.append(str(error))
                return check(name, default)

        defaults = cls()
        settings = cls(
            database_url=parse(_database_url, "DATABASE_URL", defaults.database_url),
            public_base_url=parse(_url, "PUBLIC_BASE_URL", "").rstrip("/"),
            token_encryption_keys=parse(_fernet_keys, "TOKEN_ENCRYPTION_KEYS", ""),
            xero_client_id=get("XERO_CLIENT_ID", ""),
            xero_client_secret=get("XERO_CLIENT_SECRET", ""),
            xero_scopes=tuple(get("XERO_SCOPES", DEFAULT_XERO_SCOPES).replace(",", " ").split()),
            xero_authorize_url=parse(_url, "XERO_AUTHORIZE_URL", defaults.xero_authorize_url),
            xero_token_url=parse(_url, "XERO_TOKEN_URL", defaults.xero_token_url),
            xero_revoke_url=parse(_url, "XERO_REVOKE_URL", defaults.xero_revoke_url),
            xero_api_url=parse(_url, "XERO_API_URL", defaults.xero_api_url).rstrip("/"),
            cloudpos_api_url=parse(_url, "CLOUDPOS_API_URL", defaults.cloudpos_api_url).rstrip("/"),
            consent_link_lifetime=parse(_hours, "CONSENT_LINK_HOURS", "72"),
            web_rate_limit_per_minute=parse(_positive_int, "WEB_RATE_LIMIT_PER_MINUTE", "60"),
            forwarded_allow_ips=parse(_addresses, "FORWARDED_ALLOW_IPS", "127.0.0.1"),
            slack_bot_token=get("SLACK_BOT_TOKEN", ""),
            slack_signing_secret=get("SLACK_SIGNING_SECRET", ""),
            slack_app_token=get("SLACK_APP_TOKEN", ""),
            slack_api_url=parse(_url, "SLACK_API_URL", defaults.slack_api_url),
            slack_alerts_channel=parse(_channel, "SLACK_ALERTS_CHANNEL", ""),
            helpdesk_users=_ids(get("HELPDESK_USERS", "")),
            helpdesk_usergroup=get("HELPDESK_USERGROUP", ""),
            admin_users=_ids(get("ADMIN_USERS", "")),
            admin_usergroup=get("ADMIN_USERGROUP", ""),
            ineligible_plans=_names(
                env.get("XERO_INELIGIBLE_PLANS", ",".join(defaults.ineligible_plans))
            ),
            ineligible_editions=_names(
                env.get("XERO_INELIGIBLE_EDITIONS", ",".join(defaults.ineligible_editions))
            ),
            metrics_token=get("METRICS_TOKEN", ""),
            scheduled_jobs=parse(_on_off, "SCHEDULED_JOBS", "on"),
            connection_check_interval=parse(_hours, "CONNECTION_CHECK_HOURS", "6"),
            consent_reminder_after=parse(_hours_or_off, "CONSENT_REMINDER_HOURS", "24"),
            xero_app_tier=parse(_tier, "XERO_APP_TIER", "starter"),
            sync_webhook_url=parse(_url, "SYNC_WEBHOOK_URL", ""),
            sync_webhook_secret=get("SYNC_WEBHOOK_SECRET", ""),
        )
        if bool(settings.sync_webhook_url) != bool(settings.sync_webhook_secret):
            problems.append(
                "SYNC_WEBHOOK_URL and SYNC_WEBHOOK_SECRET go together: set both to push store "
                "events to the sync service, or neither. Generate a secret with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
            )
        if problems:
            raise SettingsError(_summary(problems))
        return settings


def _summary(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"{len(problems)} settings need fixing:\n{lines}"


def default_database_url(directory: Path) -> str:
    """A SQLite file in `directory`, so the bot runs with no database set up."""
    return f"sqlite+aiosqlite:///{directory / 'xero-bot.sqlite3'}"


def generate_encryption_key() -> str:
    """A fresh key for TOKEN_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


_HINTS = {
    "PUBLIC_BASE_URL": "Set it to the https address customers reach the bot at, "
    "e.g. https://xero-bot.example.com.",
    "TOKEN_ENCRYPTION_KEYS": "Generate one with `xero-bot generate-key`.",
    "XERO_CLIENT_ID": "Copy it from your app at developer.xero.com (My Apps).",
    "XERO_CLIENT_SECRET": "Generate it for your app at developer.xero.com (My Apps).",
    "SLACK_BOT_TOKEN": "Copy the xoxb- token from your Slack app's OAuth & Permissions page.",
    "SLACK_SIGNING_SECRET": "Copy it from your Slack app's Basic Information page.",
}

ALL_SERVICE_SETTINGS = (
    "PUBLIC_BASE_URL",
    "TOKEN_ENCRYPTION_KEYS",
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
)
SLACK_SETTINGS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")


def _url(name: str, value: str) -> str:
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}.")
    return value


_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def _database_url(name: str, value: str) -> str:
    """Plain `postgresql://` and `sqlite://` URLs (and Heroku's `postgres://`) get the async
    driver the bot uses; any other driver would fail later with a long traceback."""
    if value.startswith("postgres://"):
        value = "postgresql://" + value.removeprefix("postgres://")
    try:
        url = make_url(value)
    except ArgumentError:
        url = None
    backend = url.get_backend_name() if url is not None else ""
    if url is None or backend not in _ASYNC_DRIVERS:
        raise SettingsError(
            f"{name} must be a SQLAlchemy URL for SQLite or PostgreSQL, e.g. "
            "sqlite+aiosqlite:///xero-bot.sqlite3 or postgresql://user@host/db."
        )
    wanted = f"{backend}+{_ASYNC_DRIVERS[backend]}"
    if "+" not in url.drivername:
        return url.set(drivername=wanted).render_as_string(hide_password=False)
    if url.drivername != wanted:
        raise SettingsError(
            f"{name} uses the driver {url.get_driver_name()!r}; the bot needs {wanted}:// "
            f"(or plain {backend}://)."
        )
    return value


def _fernet_keys(_name: str, value: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise SettingsError(
                f"TOKEN_ENCRYPTION_KEYS key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes). Generate one with `xero-bot generate-key`."
            ) from None
    return keys


def _ids(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.replace(" ", ",").split(",") if part.strip())


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip().upper() for name in value.split(",") if name.strip())


def _addresses(name: str, value: str) -> tuple[str, ...]:
    """IP addresses or networks (CIDR), comma-separated; `none` for no proxy, `*` for any."""
    if value.strip().lower() == "none":
        return ()
    parts = tuple(part.strip() for part in value.split(",") if part.strip())
    for part in parts:
        if part == "*":
            continue
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise SettingsError(
                f"{name} must list IP addresses or networks (e.g. 10.0.0.0/8), "
                f"`*` or `none`; {part!r} is neither."
            ) from None
    return parts


def _positive_int(name: str, value: str) -> int:
    if not value.isdigit() or int(value) <= 0:
        raise SettingsError(f"{name} must be a positive whole number, got {value!r}.")
    return int(value)


_ON = ("on", "true", "yes", "1")
_OFF = ("off", "false", "no", "0")


def _on_off(name: str, value: str) -> bool:
    if value.lower() in _ON:
        return True
    if value.lower() in _OFF:
        return False
    raise SettingsError(f"{name} must be on or off, got {value!r}.")


def _tier(name: str, value: str) -> XeroTier:
    try:
        return XeroTier(value.strip().lower())
    except ValueError:
        tiers = ", ".join(tier.value for tier in XeroTier)
        raise SettingsError(f"{name} must be one of {tiers}, got {value!r}.") from None


def _hours(name: str, value: str) -> timedelta:
    try:
        return timedelta(hours=_positive_float(value))
    except (ValueError, OverflowError):
        raise SettingsError(f"{name} must be a positive number of hours, got {value!r}.") from None


def _hours_or_off(name: str, value: str) -> timedelta | None:
    if value.strip().lower() in ("0", "off"):
        return None
    try:
        return timedelta(hours=_positive_float(value))
    except (ValueError, OverflowError):
        raise SettingsError(
            f"{name} must be a positive number of hours, or off, got {value!r}."
        ) from None


_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")


def _channel(name: str, value: str) -> str:
    if value and not _CHANNEL_ID.fullmatch(value):
        raise SettingsError(
            f"{name} must be a channel id such as C0123ABCD (in Slack: the channel's name, "
            f"then About, at the bottom), got {value[:40]!r}."
        )
    return value


def _positive_float(value: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(value)
    return number
