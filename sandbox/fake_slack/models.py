"""The fake Slack's records: messages, modal views, recorded Web API calls, and its errors."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


class WorkspaceError(Exception):
    """A Slack error code (`{"ok": false, "error": code}`) raised by a workspace operation."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Message:
    """One message as Slack stores it; `ephemeral_to` is the only user who sees it, if any."""

    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    ephemeral_to: str | None = None
    edited: bool = False
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    metadata: dict[str, Any] | None = None
    bot_id: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def as_api(self, team_id: str) -> dict[str, Any]:
        """The message object Slack returns from chat.* and puts in block_actions payloads."""
        payload: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "user": self.user,
            "team": team_id,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
        }
        if self.bot_id is not None:
            payload["bot_id"] = self.bot_id
        if self.thread_ts is not None:
            payload["thread_ts"] = self.thread_ts
        if self.metadata is not None:
            payload["metadata"] = copy.deepcopy(self.metadata)
        if self.edited:
            payload["edited"] = {"user": self.user, "ts": self.ts}
        return payload


@dataclass
class ModalView:
    """A modal view as the bot sent it; `position` is its place in its stack (0 = root)."""

    id: str
    hash: str
    user: str
    view: dict[str, Any]
    position: int = 0
    closed: bool = False
    root_view_id: str = ""
    previous_view_id: str | None = None
    external_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")

    def as_api(
        self,
        *,
        team_id: str,
        app_id: str,
        bot_id: str,
        state_values: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The view object Slack returns from views.* and sends in interaction payloads."""
        payload = copy.deepcopy(self.view)
        payload.update(
            id=self.id,
            hash=self.hash,
            team_id=team_id,
            app_id=app_id,
            bot_id=bot_id,
            callback_id=self.callback_id,
            private_metadata=self.private_metadata,
            external_id=self.external_id or "",
            root_view_id=self.root_view_id or self.id,
            previous_view_id=self.previous_view_id,
            state={"values": copy.deepcopy(state_values or {})},
        )
        return payload


@dataclass
class HomeView:
    """The App Home view last published for one user (views.publish)."""

    id: str
    hash: str
    user: str
    view: dict[str, Any]

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.view.get("blocks") or [])

    def as_api(self, *, team_id: str, app_id: str, bot_id: str) -> dict[str, Any]:
        """The view object Slack returns from views.publish and sends with app_home_opened."""
        payload = copy.deepcopy(self.view)
        payload.update(
            id=self.id,
            hash=self.hash,
            team_id=team_id,
            app_id=app_id,
            bot_id=bot_id,
            type="home",
            callback_id=str(self.view.get("callback_id") or ""),
            private_metadata=str(self.view.get("private_metadata") or ""),
            external_id=str(self.view.get("external_id") or ""),
            root_view_id=self.id,
            previous_view_id=None,
            state={"values": {}},
        )
        return payload


@dataclass(frozen=True)
class ApiCall:
    """A Web API call (or a post to a response URL: method "response_url") the bot made.

    `args` holds the arguments without the token, with JSON strings (e.g. `blocks` in form
    bodies) decoded; `error` is the Slack error code the fake answered with, if any.
    """

    method: str
    args: dict[str, Any]
    at: float
    error: str | None = None

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}"[:80] for k, v in self.args.items())
        outcome = f" -> {self.error}" if self.error else ""
        return f"{self.method}({shown}){outcome}"


@dataclass
class ResponseUrl:
    """A response URL handed out with a command or interaction."""

    id: str
    channel_id: str
    user_id: str
    message_ts: str | None = None
    last_ts: str | None = None
    uses: int = 0


@dataclass
class Trigger:
    """A trigger id; `view_id` is the modal it came from (needed by views.push)."""

    id: str
    user_id: str | None
    issued_at: float
    view_id: str | None = None
    used: bool = False
