"""`Workspace`: the fake Slack's in-memory state. No HTTP here; `api.py` serves it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .models import Message, ResponseUrl, Trigger, WorkspaceError
from .views import ViewStacks


class Workspace(ViewStacks):
    """One Slack team with our bot installed: users, channels, messages, modals, calls.

    Messages are kept in posting order; a console renders `messages(channel)`, each thread's
    `replies(...)`, the `ephemeral(channel, user)` messages, `views_of(user)` and
    `home_of(user)`. Every change bumps `revision`; `await changed(since)` wakes on the next
    one. Use it from one event loop (the one serving `api.create_app(workspace)`).
    """

    def __init__(
        self,
        *,
        team_id: str = "T0SANDBOX",
        bot_user_id: str = "U0BOT",
        bot_token: str = "xoxb-sandbox",  # noqa: S107 - the fake's own token
        bot_id: str = "B0BOT",
        bot_name: str = "xero-bot",
        app_id: str = "A0SANDBOX",
        team_domain: str = "sandbox",
        trigger_ttl: float | None = 3.0,
        base_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.team_id, self.team_domain, self.app_id = team_id, team_domain, app_id
        self.bot_user_id, self.bot_id, self.bot_token = bot_user_id, bot_id, bot_token
        self.trigger_ttl = trigger_ttl
        self.base_url = base_url
        self.clock = clock
        self.users: dict[str, str] = {bot_user_id: bot_name}
        self.channels: dict[str, str] = {"C0HELPDESK": "helpdesk"}
        self.usergroups: dict[str, list[str]] = {}
        self._messages: list[Message] = []
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._last_ts = 0
        self._serial = 0

    def __repr__(self) -> str:
        return f"Workspace(team_id={self.team_id!r}, base_url={self.base_url!r})"

    # --- directory ----------------------------------------------------------------------

    def add_user(self, user_id: str, name: str) -> None:
        self.users[user_id] = name
        self._changed()

    def add_channel(self, channel_id: str, name: str) -> None:
        self.channels[channel_id] = name
        self._changed()

    def add_usergroup(self, group_id: str, user_ids: list[str]) -> None:
        self.usergroups[group_id] = list(user_ids)
        self._changed()

    def dm_channel(self, user_id: str) -> str:
        """The app's DM with a user: "D" + the user id."""
        if user_id not in self.users:
            raise WorkspaceError("user_not_found")
        channel_id = f"D{user_id}"
        self.channels.setdefault(channel_id, f"@{self.users[user_id]}")
        return channel_id

    def channel_id(self, channel: str) -> str:
        """A known channel's id; a user id ("U…"/"W…") means the app's DM with that user."""
        if channel[:1] in ("U", "W") and channel in self.users:
            return self.dm_channel(channel)
        if channel not in self.channels:
            raise WorkspaceError("channel_not_found")
        return channel

    # --- messages -----------------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages everyone in the channel sees, oldest first."""
        channel = self._key(channel)
        return [
            m
            for m in self._messages
            if m.channel == channel and not m.is_reply and m.ephemeral_to is None
        ]

    def replies(self, channel: str, thread_ts: str) -> list[Message]:
        """A thread's replies (not its parent) that everyone sees, oldest first."""
        channel = self._key(channel)
        return [
            m
            for m in self._messages
            if m.channel == channel
            and m.is_reply
            and m.thread_ts == thread_ts
            and m.ephemeral_to is None
        ]

    def ephemeral(self, channel: str, user: str) -> list[Message]:
        """Messages only `user` sees in the channel (top level and in threads), oldest first."""
        channel = self._key(channel)
        return [m for m in self._messages if m.channel == channel and m.ephemeral_to == user]

    def message(self, channel: str, ts: str) -> Message | None:
        channel = self._key(channel)
        return next((m for m in self._messages if m.channel == channel and m.ts == ts), None)

    def post(
        self,
        channel: str,
        *,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        user: str | None = None,
        thread_ts: str | None = None,
        ephemeral_to: str | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        channel = self.channel_id(channel)
        if not text and not blocks:
            raise WorkspaceError("no_text")
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > 50):
            raise WorkspaceError("invalid_blocks")
        if thread_ts:
            parent = self.message(channel, thread_ts)
            if parent is None or parent.ephemeral_to is not None:
                raise WorkspaceError("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts
        user = user or self.bot_user_id
        message = Message(
            ts=self._next_ts(),
            channel=channel,
            user=user,
            text=text or "",
            blocks=list(blocks or []),
            thread_ts=thread_ts or None,
            ephemeral_to=ephemeral_to,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
            metadata=metadata,
            bot_id=self.bot_id if user == self.bot_user_id else None,
        )
        self._messages.append(message)
        self._changed()
        return message

    def update(
        self,
        channel: str,
        ts: str,
        *,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        """chat.update: only given fields change; an ephemeral message can't be updated."""
        message = self.message(self.channel_id(channel), ts)
        if message is None:
            raise WorkspaceError("message_not_found")
        if message.ephemeral_to is not None:
            raise WorkspaceError("cant_update_message")
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = list(blocks)
        if metadata is not None:
            message.metadata = metadata
        message.edited = True
        self._changed()
        return message

    def replace(self, message: Message, *, text: str, blocks: list[dict[str, Any]]) -> None:
        """A response URL's `replace_original`: the whole content changes, visibility stays."""
        message.text, message.blocks, message.edited = text, list(blocks), True
        self._changed()

    def delete(self, message: Message) -> None:
        self._messages = [m for m in self._messages if m is not message]
        self._changed()

    # --- triggers and response URLs -----------------------------------------------------

    def new_trigger_id(self, user_id: str | None = None, *, view_id: str | None = None) -> str:
        """A fresh trigger id, as Slack sends with each interaction; `view_id` = from a modal."""
        self._serial += 1
        trigger_id = f"{self._serial}.{self.team_id}.{time.time_ns() % 10**12:012x}"
        self._triggers[trigger_id] = Trigger(trigger_id, user_id, self.clock(), view_id)
        return trigger_id

    def use_trigger(self, trigger_id: str) -> Trigger:
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise WorkspaceError("invalid_trigger_id")
        if trigger.used:
            raise WorkspaceError("trigger_exchanged")
        if self.trigger_ttl is not None and self.clock() - trigger.issued_at > self.trigger_ttl:
            raise WorkspaceError("expired_trigger_id")
        trigger.used = True
        return trigger

    def response_url(self, *, channel_id: str, user_id: str, message_ts: str | None = None) -> str:
        if self.base_url is None:
            raise RuntimeError("Workspace.base_url is unset: set it to where the fake is served")
        self._serial += 1
        url_id = f"R{self._serial:06d}"
        self._response_urls[url_id] = ResponseUrl(url_id, channel_id, user_id, message_ts)
        return f"{self.base_url.rstrip('/')}/response/{url_id}"

    def issued_response_url(self, url_id: str) -> ResponseUrl | None:
        return self._response_urls.get(url_id)

    def _key(self, channel: str) -> str:
        return f"D{channel}" if channel[:1] in ("U", "W") else channel

    def _next_ts(self) -> str:
        self._last_ts = max(time.time_ns() // 1000, self._last_ts + 1)
        return f"{self._last_ts // 10**6}.{self._last_ts % 10**6:06d}"
