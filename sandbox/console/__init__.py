"""The Slack console: a web page that plays Slack for the bot, over the fake Slack.

Mount `console_routes(workspace=..., driver=..., users=[ConsoleUser(...), ...])` (e.g. at
"/sandbox"); the page acts as any of `users`, sends the bot slash commands, clicks,
selections and modal submissions through the `SlackDriver`, and long-polls the
`Workspace` to show a channel (of those in its sidebar), threads, ephemeral messages,
modals and the app's Home tab as Slack would. An external select searches as the person
types: the page asks `/api/suggest`, which sends the app Slack's options request. The
console imports nothing of the app: what it needs of it (`run_jobs`, for "Run jobs now")
is passed in.
"""

from .routes import ConsoleUser, console_routes
from .web import CSP

__all__ = ["CSP", "ConsoleUser", "console_routes"]
