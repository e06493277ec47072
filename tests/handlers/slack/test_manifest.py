"""manifest.yml is a valid Slack app manifest that matches what the code handles."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

from handlers.slack import ids

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "tests" / "data" / "slack-manifest.schema.1.0.0.json"


def manifest() -> dict[str, object]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_the_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(manifest()), key=str)
    assert errors == []


def test_the_command_and_urls_are_the_ones_the_app_serves() -> None:
    data = manifest()
    features, settings = data["features"], data["settings"]
    assert isinstance(features, dict)
    assert isinstance(settings, dict)
    (command,) = features["slash_commands"]
    assert command["command"] == ids.COMMAND
    assert command["url"].endswith("/slack/events")
    assert settings["interactivity"]["request_url"] == command["url"]


def test_the_bot_asks_only_for_the_scopes_it_uses() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])  # type: ignore[index]
    assert scopes == {"commands", "chat:write", "chat:write.public", "usergroups:read"}
    used = set()
    for path in (ROOT / "handlers" / "slack").rglob("*.py"):
        used |= set(re.findall(r"client\.(\w+)\(", path.read_text()))
    assert used <= {
        "chat_postMessage",
        "chat_postEphemeral",
        "chat_update",
        "views_open",
        "views_update",
        "views_publish",
        "usergroups_users_list",
    }, used
