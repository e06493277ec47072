"""manifest.yml turns on what the App Home needs: the Home tab and its opening event."""

from __future__ import annotations

from handlers.slack.events.home import HOME_OPENED
from tests.handlers.slack.test_manifest import manifest


def test_the_home_tab_is_on_and_its_opening_is_sent_where_the_app_listens() -> None:
    data = manifest()
    features, settings = data["features"], data["settings"]
    assert isinstance(features, dict)
    assert isinstance(settings, dict)
    assert features["app_home"]["home_tab_enabled"] is True
    events = settings["event_subscriptions"]
    assert events["bot_events"] == [HOME_OPENED]
    assert events["request_url"] == settings["interactivity"]["request_url"]
    assert events["request_url"].endswith("/slack/events")
    assert "attention" in features["slash_commands"][0]["usage_hint"]
