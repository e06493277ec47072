"""What each `xero-bot` command reads from the environment, for its `--help`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.settings import ALL_SERVICE_SETTINGS, SLACK_SETTINGS

DESCRIPTIONS = {
    "DATABASE_URL": "SQLAlchemy URL, e.g. postgresql://user@host/db (./xero-bot.sqlite3)",
    "PUBLIC_BASE_URL": "the https address customers reach the bot at",
    "TOKEN_ENCRYPTION_KEYS": "comma-separated Fernet keys (`xero-bot generate-key`)",
    "XERO_CLIENT_ID": "from your app at developer.xero.com",
    "XERO_CLIENT_SECRET": "from your app at developer.xero.com",
    "SLACK_BOT_TOKEN": "the bot's xoxb- token",
    "SLACK_SIGNING_SECRET": "the Slack app's signing secret",
    "SLACK_APP_TOKEN": "an xapp- token: receive Slack over Socket Mode too",
    "HELPDESK_USERS": "Slack user ids allowed to use /xero (or HELPDESK_USERGROUP)",
    "ADMIN_USERS": "Slack user ids who may disconnect and revoke (or ADMIN_USERGROUP)",
    "XERO_SCOPES": "OAuth scopes (default: openid profile email offline_access …)",
    "XERO_AUTHORIZE_URL": "Xero endpoints, to point elsewhere (also XERO_TOKEN_URL, …)",
    "CLOUDPOS_API_URL": "the Cloud POS API",
    "CONSENT_LINK_HOURS": "how long a consent link stays usable (72)",
    "WEB_RATE_LIMIT_PER_MINUTE": "requests a minute per address on the customer pages (60)",
    "FORWARDED_ALLOW_IPS": "proxies whose X-Forwarded-For is believed (127.0.0.1; none)",
    "XERO_INELIGIBLE_PLANS": "organisation classes that cannot connect (DEMO,IGNITE,…)",
    "METRICS_TOKEN": "serve GET /metrics to `Authorization: Bearer <this>` (off when unset)",
    "SCHEDULED_JOBS": "off: only serve, run no keep-alive or connection check (on)",
    "CONNECTION_CHECK_HOURS": "hours between connection checks (6)",
    "CONSENT_REMINDER_HOURS": "remind a link's issuer after this many hours (24; off)",
    "SLACK_ALERTS_CHANNEL": "channel id for alerts about broken stores (none: log only)",
    "XERO_APP_TIER": "the app's Xero tier, for its connection limit (starter)",
    "SYNC_WEBHOOK_URL": "push store events here, signed with SYNC_WEBHOOK_SECRET (off)",
    "LOG_FORMAT": "text (default) or json",
}

_XERO_AND_POS = ("XERO_SCOPES", "XERO_AUTHORIZE_URL", "CLOUDPOS_API_URL")
SERVE_OPTIONAL = (
    "DATABASE_URL",
    "SLACK_APP_TOKEN",
    "HELPDESK_USERS",
    "ADMIN_USERS",
    *_XERO_AND_POS,
    "CONSENT_LINK_HOURS",
    "WEB_RATE_LIMIT_PER_MINUTE",
    "FORWARDED_ALLOW_IPS",
    "XERO_INELIGIBLE_PLANS",
    "METRICS_TOKEN",
    "SCHEDULED_JOBS",
    "CONNECTION_CHECK_HOURS",
    "CONSENT_REMINDER_HOURS",
    "SLACK_ALERTS_CHANNEL",
    "XERO_APP_TIER",
    "SYNC_WEBHOOK_URL",
    "LOG_FORMAT",
)
API_KEY = (("TOKEN_ENCRYPTION_KEYS",), ("DATABASE_URL", "LOG_FORMAT"))
SERVE = ((*ALL_SERVICE_SETTINGS, *SLACK_SETTINGS), SERVE_OPTIONAL)
KEEP_ALIVE = (ALL_SERVICE_SETTINGS, ("DATABASE_URL", *_XERO_AND_POS, "LOG_FORMAT"))
CHECK_CONNECTIONS = KEEP_ALIVE
ROTATE_KEYS = (("TOKEN_ENCRYPTION_KEYS",), ("DATABASE_URL", "LOG_FORMAT"))
MIGRATE = ((), ("DATABASE_URL", "LOG_FORMAT"))


def environment(required: Sequence[str], optional: Sequence[str]) -> str:
    """The epilog: every variable the command reads, the required ones first."""
    width = max(len(name) for name in (*required, *optional)) + 2
    lines = ["environment variables (see the README's Configuration section):"]
    for heading, names in (("required", required), ("optional", optional)):
        if names:
            lines.append(f"  {heading}:")
            lines += [f"    {name.ljust(width)}{DESCRIPTIONS[name]}" for name in names]
    return "\n".join(lines)
