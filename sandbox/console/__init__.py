"""The Slack console: a web page that plays Slack for the bot, over the fake Slack.

Mount `console_routes(workspace=..., driver=..., users=[ConsoleUser(...), ...])` (e.g. at
"/sandbox"); the page acts as any of `users`, sends the bot slash commands, clicks,
selections and modal submissions through the `SlackDriver`, and long-polls the
`Workspace` to show the channel, threads, ephemeral messages and modals as Slack would.
"""

from .routes import ConsoleUser, console_routes
from .web import CSP

__all__ = ["CSP", "ConsoleUser", "console_routes"]
