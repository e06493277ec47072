"""Signed HTTP requests exactly as Slack sends them to the app's request URL."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from slack_sdk.signature import SignatureVerifier

API_APP_ID = "A0SANDBOX"
TEAM_DOMAIN = "sandbox"
VERIFICATION_TOKEN = "sandbox-verification-token"  # noqa: S105 - Slack's legacy field, unused


@dataclass(frozen=True)
class SignedRequest:
    """A raw body and the headers Slack signs it with (names in lower case)."""

    body: str
    headers: dict[str, str]


def sign(
    *,
    signing_secret: str,
    body: str,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> SignedRequest:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None  # None only without a signing secret
    return SignedRequest(
        body=body,
        headers={
            "content-type": content_type,
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": signature,
        },
    )


def slash_command(
    *,
    signing_secret: str,
    command: str = "/xero",
    text: str,
    user_id: str,
    user_name: str = "agent",
    channel_id: str = "C0HELPDESK",
    channel_name: str = "helpdesk",
    team_id: str = "T0SANDBOX",
    response_url: str,
    trigger_id: str,
    timestamp: int | None = None,
) -> SignedRequest:
    """A slash command: a form body, as Slack posts it."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return sign(signing_secret=signing_secret, body=urlencode(fields), timestamp=timestamp)


def _user(user_id: str, user_name: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def payload_request(
    signing_secret: str, payload: dict[str, Any], timestamp: int | None
) -> SignedRequest:
    """An interaction as Slack posts it: the payload JSON in a form field, signed."""
    body = f"payload={quote(json.dumps(payload, separators=(',', ':')))}"
    return sign(signing_secret=signing_secret, body=body, timestamp=timestamp)


def block_actions(
    *,
    signing_secret: str,
    user_id: str,
    actions: list[dict[str, Any]],
    channel_id: str | None = None,
    message: dict[str, Any] | None = None,
    response_url: str | None = None,
    trigger_id: str,
    state_values: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    user_name: str = "agent",
    team_id: str = "T0SANDBOX",
    timestamp: int | None = None,
) -> SignedRequest:
    """A click or selection in a message (give `message`, `channel_id`, `response_url`) or
    in a modal (give `view`). An ephemeral message has no `message`: pass `container`."""
    if container is None and view is not None:
        container = {"type": "view", "view_id": view.get("id")}
    elif container is None:
        container = {
            "type": "message",
            "message_ts": (message or {}).get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": message is None,
        }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id}
    if message is not None:
        payload["message"] = message
    if view is not None:
        payload["view"] = view
    payload["state"] = {"values": state_values or {}}
    if response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = actions
    return payload_request(signing_secret, payload, timestamp)


def view_submission(
    *,
    signing_secret: str,
    user_id: str,
    view: dict[str, Any],
    state_values: dict[str, Any],
    trigger_id: str,
    response_urls: list[dict[str, str]] | None = None,
    user_name: str = "agent",
    team_id: str = "T0SANDBOX",
    timestamp: int | None = None,
) -> SignedRequest:
    """A modal's submit: `view` as Slack reports it (id, hash, callback_id, …); state added."""
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": {**view, "state": {"values": state_values}},
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return payload_request(signing_secret, payload, timestamp)


def view_closed(
    *,
    signing_secret: str,
    user_id: str,
    view: dict[str, Any],
    is_cleared: bool = False,
    user_name: str = "agent",
    team_id: str = "T0SANDBOX",
    timestamp: int | None = None,
) -> SignedRequest:
    """The user closed a modal that asked for `notify_on_close`."""
    payload = {
        "type": "view_closed",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "view": view,
        "is_cleared": is_cleared,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return payload_request(signing_secret, payload, timestamp)


def event_callback(
    *,
    signing_secret: str,
    event: dict[str, Any],
    event_id: str,
    team_id: str = "T0SANDBOX",
    bot_user_id: str = "U0BOT",
    timestamp: int | None = None,
) -> SignedRequest:
    """An Events API delivery: a JSON body wrapping `event`, as Slack posts it."""
    now = int(time.time()) if timestamp is None else timestamp
    payload = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }
    body = json.dumps(payload, separators=(",", ":"))
    return sign(
        signing_secret=signing_secret,
        body=body,
        timestamp=timestamp,
        content_type="application/json",
    )


def app_home_opened(
    *,
    signing_secret: str,
    user_id: str,
    channel_id: str,
    event_id: str,
    tab: str = "home",
    view: dict[str, Any] | None = None,
    team_id: str = "T0SANDBOX",
    bot_user_id: str = "U0BOT",
    timestamp: int | None = None,
) -> SignedRequest:
    """The user opened the app's Home (or Messages) tab; `view` is the Home view published
    for them before, which Slack includes when there is one."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    return event_callback(
        signing_secret=signing_secret,
        event=event,
        event_id=event_id,
        team_id=team_id,
        bot_user_id=bot_user_id,
        timestamp=timestamp,
    )
