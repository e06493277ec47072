"""Options requests (`block_suggestion`) for external selects, and the app's answers to them.

When someone types in an `external_select` (or `multi_external_select`), Slack asks the
app's request URL for the options to show, signed like any interaction, and shows what the
app answers within 3 s: `{"options": [...]}` or `{"option_groups": [...]}`. Slack sends
nothing while fewer than `min_query_length` characters (3 unless the element says) are
typed, so neither does the driver.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from .requests import API_APP_ID, TEAM_DOMAIN, VERIFICATION_TOKEN, SignedRequest, payload_request

EXTERNAL = frozenset({"external_select", "multi_external_select"})
MIN_QUERY_LENGTH = 3
MAX_OPTIONS = 100


class SuggestionError(Exception):
    """The app answered an options request as Slack would not take it (not 200, or no
    options): Slack shows the person an empty menu, the driver says why."""


def min_query_length(element: dict[str, Any]) -> int:
    """How many characters Slack waits for before asking the app (the element's
    `min_query_length`, else Slack's default of 3)."""
    value = element.get("min_query_length")
    return MIN_QUERY_LENGTH if value is None else int(value)


def block_suggestion(
    *,
    signing_secret: str,
    user_id: str,
    action_id: str,
    block_id: str,
    value: str,
    view: dict[str, Any] | None = None,
    channel_id: str | None = None,
    channel_name: str = "",
    container: dict[str, Any] | None = None,
    user_name: str = "agent",
    team_id: str = "T0SANDBOX",
    timestamp: int | None = None,
) -> SignedRequest:
    """What Slack posts as someone types `value` in an external select: in a modal or a
    Home (give `view`, as Slack reports it), or in a message (give `channel_id` and its
    `container`)."""
    if container is None:
        if view is None:
            raise ValueError("a block_suggestion comes from a view or a message's container")
        container = {"type": "view", "view_id": view.get("id")}
    body: dict[str, Any] = {
        "type": "block_suggestion",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "container": container,
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if channel_id is not None:
        body["channel"] = {"id": channel_id, "name": channel_name}
    if view is not None:
        body["view"] = view
    return payload_request(signing_secret, body, timestamp)


def answered_options(response: httpx.Response, what: str) -> list[dict[str, Any]]:
    """The options the app answered (groups flattened, in order), checked as Slack checks
    them; `what` names the select in the error."""
    if response.status_code != 200:
        detail = response.text[:200]
        raise SuggestionError(f"{what}: the app answered HTTP {response.status_code}: {detail}")
    try:
        answer = json.loads(response.content or b"null")
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not ("options" in answer or "option_groups" in answer):
        raise SuggestionError(
            f"{what}: the app's answer is not {{'options': [...]}} or "
            f"{{'option_groups': [...]}}: {response.text[:200]!r}"
        )
    if "options" in answer:
        found = _checked(answer["options"], what)
    else:
        groups = answer["option_groups"]
        if not isinstance(groups, list) or not all(
            isinstance(group, dict) and _is_text(group.get("label")) for group in groups
        ):
            raise SuggestionError(f"{what}: each option group needs a plain_text label")
        if len(groups) > MAX_OPTIONS:
            raise SuggestionError(f"{what}: {len(groups)} option groups, over Slack's 100")
        found = [o for group in groups for o in _checked(group.get("options"), what)]
    return found


def _is_text(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("text"), str)


def _checked(options: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(options, list) or len(options) > MAX_OPTIONS:
        raise SuggestionError(f"{what}: options must be a list of at most 100")
    for option in options:
        if not (isinstance(option, dict) and _is_text(option.get("text"))) or not isinstance(
            option.get("value"), str
        ):
            raise SuggestionError(f"{what}: each option needs a text object and a value: {option}")
    return list(options)
