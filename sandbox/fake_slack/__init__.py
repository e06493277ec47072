"""A fake Slack: the Web API and response URLs over real HTTP, plus signed requests to the bot.

Serve `create_app(workspace)` (e.g. with uvicorn on loopback), set `workspace.base_url` to
its root, and give the bot `AsyncWebClient(token=workspace.bot_token,
base_url=f"{workspace.base_url}/api/")`. `SlackDriver` plays the person in Slack: it
sends the bot slash commands, clicks, selections, modal submissions, App Home openings and
the options requests (`block_suggestion`) of external selects, signed like Slack's.
"""

from .api import create_app
from .driver import SlackDriver
from .models import ApiCall, HomeView, Message, ModalView, WorkspaceError
from .requests import (
    SignedRequest,
    app_home_opened,
    block_actions,
    event_callback,
    sign,
    slash_command,
    view_closed,
    view_submission,
)
from .suggestions import MIN_QUERY_LENGTH, SuggestionError, block_suggestion
from .workspace import Workspace

__all__ = [
    "MIN_QUERY_LENGTH",
    "ApiCall",
    "HomeView",
    "Message",
    "ModalView",
    "SignedRequest",
    "SlackDriver",
    "SuggestionError",
    "Workspace",
    "WorkspaceError",
    "app_home_opened",
    "block_actions",
    "block_suggestion",
    "create_app",
    "event_callback",
    "sign",
    "slash_command",
    "view_closed",
    "view_submission",
]
