from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.tiers import XeroTier
from bot.settings import ALL_SERVICE_SETTINGS, Settings, SettingsError, generate_encryption_key

KEY = generate_encryption_key()
COMPLETE = {
    "PUBLIC_BASE_URL": "https://bot.example.com/",
    "TOKEN_ENCRYPTION_KEYS": KEY,
    "XERO_CLIENT_ID": "client",
    "XERO_CLIENT_SECRET": "secret",
}


def test_defaults_need_nothing_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'xero-bot.sqlite3'}"
    assert settings.xero_token_url == "https://identity.xero.com/connect/token"
    assert settings.xero_api_url == "https://api.xero.com"
    assert "offline_access" in settings.xero_scopes
    assert settings.consent_link_lifetime == timedelta(hours=72)


def test_every_external_url_is_configurable() -> None:
    env = COMPLETE | {
        "XERO_AUTHORIZE_URL": "http://127.0.0.1:9/authorize",
        "XERO_TOKEN_URL": "http://127.0.0.1:9/token",
        "XERO_REVOKE_URL": "http://127.0.0.1:9/revoke",
        "XERO_API_URL": "http://127.0.0.1:9/api/",
        "CLOUDPOS_API_URL": "http://127.0.0.1:8/",
        "XERO_SCOPES": "offline_access,accounting.settings.read",
        "CONSENT_LINK_HOURS": "24",
    }
    settings = Settings.from_env(env, required=ALL_SERVICE_SETTINGS)
    assert settings.public_base_url == "https://bot.example.com"
    assert settings.xero_redirect_uri == "https://bot.example.com/xero/callback"
    assert settings.xero_authorize_url == "http://127.0.0.1:9/authorize"
    assert settings.xero_token_url == "http://127.0.0.1:9/token"
    assert settings.xero_revoke_url == "http://127.0.0.1:9/revoke"
    assert settings.xero_api_url == "http://127.0.0.1:9/api"
    assert settings.cloudpos_api_url == "http://127.0.0.1:8"
    assert settings.xero_scopes == ("offline_access", "accounting.settings.read")
    assert settings.consent_link_lifetime == timedelta(hours=24)


@pytest.mark.parametrize("missing", ALL_SERVICE_SETTINGS)
def test_a_missing_required_setting_is_named(missing: str) -> None:
    env = {name: value for name, value in COMPLETE.items() if name != missing}
    with pytest.raises(SettingsError, match=f"^{missing} is not set"):
        Settings.from_env(env, required=ALL_SERVICE_SETTINGS)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TOKEN_ENCRYPTION_KEYS", "not-a-key", "key #1 is not a valid Fernet key"),
        ("TOKEN_ENCRYPTION_KEYS", f"{KEY},nope", "key #2 is not a valid Fernet key"),
        ("PUBLIC_BASE_URL", "bot.example.com", "PUBLIC_BASE_URL must be an http"),
        ("XERO_API_URL", "ftp://x", "XERO_API_URL must be an http"),
        ("CONSENT_LINK_HOURS", "-1", "CONSENT_LINK_HOURS must be a positive number"),
        ("DATABASE_URL", "not a url", "DATABASE_URL must be a SQLAlchemy URL"),
        ("DATABASE_URL", "mysql://localhost/db", "DATABASE_URL must be a SQLAlchemy URL"),
        ("WEB_RATE_LIMIT_PER_MINUTE", "0", "WEB_RATE_LIMIT_PER_MINUTE must be a positive"),
    ],
)
def test_malformed_settings_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(COMPLETE | {name: value})


def test_secrets_are_not_in_repr() -> None:
    settings = Settings.from_env(
        COMPLETE | {"DATABASE_URL": "postgresql+asyncpg://bot:db-password@db/bot"}
    )
    assert "secret" not in repr(settings)
    assert KEY not in repr(settings)
    assert "db-password" not in repr(settings)


def test_cli_reports_a_missing_setting_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "rotate-keys"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "xero-bot: TOKEN_ENCRYPTION_KEYS is not set. Generate one with `xero-bot generate-key`."
    ]


def test_plan_policy_comes_from_settings() -> None:
    default = Settings.from_env(COMPLETE).plan_policy
    assert not default.assess(plan_class="STARTER").eligible
    assert not default.assess(plan_class="STANDARD", edition="PARTNER").eligible
    custom = Settings.from_env(
        COMPLETE | {"XERO_INELIGIBLE_PLANS": "trial, standard", "XERO_INELIGIBLE_EDITIONS": ""}
    ).plan_policy
    assert custom.assess(plan_class="STARTER").eligible
    assert not custom.assess(plan_class="STANDARD").eligible
    assert custom.assess(plan_class="PREMIUM", edition="PARTNER").eligible


def test_every_missing_and_malformed_setting_is_named_in_one_run() -> None:
    env = {"PUBLIC_BASE_URL": "bot.example.com", "CONSENT_LINK_HOURS": "soon"}
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env, required=ALL_SERVICE_SETTINGS)
    lines = str(raised.value).splitlines()
    assert lines[0] == "5 settings need fixing:"
    assert [line.split()[1] for line in lines[1:]] == [
        "TOKEN_ENCRYPTION_KEYS",
        "XERO_CLIENT_ID",
        "XERO_CLIENT_SECRET",
        "PUBLIC_BASE_URL",
        "CONSENT_LINK_HOURS",
    ]
    assert "Generate one with `xero-bot generate-key`." in lines[1]


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://bot:pw@db/bot", "postgresql+asyncpg://bot:pw@db/bot"),
        ("postgres://bot:pw@db:5433/bot", "postgresql+asyncpg://bot:pw@db:5433/bot"),
        ("postgresql+asyncpg://bot@db/bot", "postgresql+asyncpg://bot@db/bot"),
        ("sqlite:////var/lib/bot.sqlite3", "sqlite+aiosqlite:////var/lib/bot.sqlite3"),
    ],
)
def test_plain_database_urls_get_the_async_driver(given: str, used: str) -> None:
    assert Settings.from_env(COMPLETE | {"DATABASE_URL": given}).database_url == used


def test_another_database_driver_is_refused_with_what_to_write() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(COMPLETE | {"DATABASE_URL": "postgresql+psycopg2://db/bot"})
    assert str(raised.value) == (
        "DATABASE_URL uses the driver 'psycopg2'; the bot needs postgresql+asyncpg:// "
        "(or plain postgresql://)."
    )


def test_scheduled_jobs_are_on_and_check_connections_every_six_hours_by_default() -> None:
    settings = Settings.from_env(COMPLETE)
    assert settings.scheduled_jobs is True
    assert settings.connection_check_interval == timedelta(hours=6)


@pytest.mark.parametrize(
    ("value", "on"), [("off", False), ("OFF", False), ("0", False), ("on", True), ("true", True)]
)
def test_scheduled_jobs_can_be_turned_off(value: str, on: bool) -> None:
    assert Settings.from_env(COMPLETE | {"SCHEDULED_JOBS": value}).scheduled_jobs is on


@pytest.mark.parametrize(
    ("value", "after"),
    [(None, timedelta(hours=24)), ("6", timedelta(hours=6)), ("off", None), ("0", None)],
)
def test_consent_reminders_come_after_a_day_unless_said(
    value: str | None, after: timedelta | None
) -> None:
    env = COMPLETE if value is None else COMPLETE | {"CONSENT_REMINDER_HOURS": value}
    assert Settings.from_env(env).consent_reminder_after == after


def test_alerts_go_to_the_channel_given_or_only_to_the_log() -> None:
    assert Settings.from_env(COMPLETE).slack_alerts_channel == ""
    given = Settings.from_env(COMPLETE | {"SLACK_ALERTS_CHANNEL": "C0123ABCD"})
    assert given.slack_alerts_channel == "C0123ABCD"


def test_the_connection_check_interval_is_in_hours() -> None:
    settings = Settings.from_env(COMPLETE | {"CONNECTION_CHECK_HOURS": "0.5"})
    assert settings.connection_check_interval == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SCHEDULED_JOBS", "sometimes", "SCHEDULED_JOBS must be on or off, got 'sometimes'."),
        (
            "CONNECTION_CHECK_HOURS",
            "0",
            "CONNECTION_CHECK_HOURS must be a positive number of hours, got '0'.",
        ),
        (
            "CONNECTION_CHECK_HOURS",
            "soon",
            "CONNECTION_CHECK_HOURS must be a positive number of hours, got 'soon'.",
        ),
        (
            "CONNECTION_CHECK_HOURS",
            "inf",
            "CONNECTION_CHECK_HOURS must be a positive number of hours, got 'inf'.",
        ),
        (
            "CONNECTION_CHECK_HOURS",
            "nan",
            "CONNECTION_CHECK_HOURS must be a positive number of hours, got 'nan'.",
        ),
        (
            "CONSENT_LINK_HOURS",
            "1e20",
            "CONSENT_LINK_HOURS must be a positive number of hours, got '1e20'.",
        ),
        (
            "CONSENT_REMINDER_HOURS",
            "-3",
            "CONSENT_REMINDER_HOURS must be a positive number of hours, or off, got '-3'.",
        ),
        (
            "SLACK_ALERTS_CHANNEL",
            "#xero-alerts",
            "SLACK_ALERTS_CHANNEL must be a channel id such as C0123ABCD (in Slack: the "
            "channel's name, then About, at the bottom), got '#xero-alerts'.",
        ),
    ],
)
def test_malformed_job_settings_are_one_line_each(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(COMPLETE | {name: value})
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("value", "tier"),
    [(None, XeroTier.STARTER), ("core", XeroTier.CORE), (" Plus ", XeroTier.PLUS)],
)
def test_the_xero_app_tier_is_starter_unless_said(value: str | None, tier: XeroTier) -> None:
    env = COMPLETE if value is None else COMPLETE | {"XERO_APP_TIER": value}
    assert Settings.from_env(env).xero_app_tier == tier


def test_an_unknown_xero_app_tier_is_one_line_naming_the_tiers() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(COMPLETE | {"XERO_APP_TIER": "gold"})
    assert str(raised.value) == (
        "XERO_APP_TIER must be one of starter, core, plus, advanced, enterprise, got 'gold'."
    )


def test_the_sync_webhook_is_off_unless_both_its_settings_are_set() -> None:
    assert Settings.from_env(COMPLETE).sync_webhook_url == ""
    secret = "webhook-secret-value"
    both = COMPLETE | {
        "SYNC_WEBHOOK_URL": "https://sync.internal/hook",
        "SYNC_WEBHOOK_SECRET": secret,
    }
    settings = Settings.from_env(both)
    assert settings.sync_webhook_url == "https://sync.internal/hook"
    assert settings.sync_webhook_secret == secret
    assert secret not in repr(settings)


@pytest.mark.parametrize(
    "given",
    [{"SYNC_WEBHOOK_URL": "https://sync.internal/hook"}, {"SYNC_WEBHOOK_SECRET": "only-a-secret"}],
)
def test_half_a_sync_webhook_is_refused_saying_both_go_together(given: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="SYNC_WEBHOOK_URL and SYNC_WEBHOOK_SECRET go together"):
        Settings.from_env(COMPLETE | given)


def test_a_sync_webhook_that_is_not_a_url_is_refused() -> None:
    env = COMPLETE | {"SYNC_WEBHOOK_URL": "sync.internal", "SYNC_WEBHOOK_SECRET": "s"}
    with pytest.raises(SettingsError, match="SYNC_WEBHOOK_URL must be an http"):
        Settings.from_env(env)
