"""The error a fake Slack call answers, as the bot's Slack client raises it."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])
