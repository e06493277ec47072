"""What a person's Slack client keeps between requests, for `SlackDriver`: the selections
made per message, modal and Home, the options the app suggested in external selects, and
how each surface appears in the payloads Slack sends."""

from __future__ import annotations

import copy
from typing import Any

from . import blocks as kit
from .models import HomeView, Message, ModalView
from .workspace import Workspace

Target = Message | ModalView | HomeView
Values = dict[str, dict[str, Any]]


class ClientMemory:
    """Selections and suggested options, kept per message (channel, ts) and per view id."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._state: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
        self._suggested: dict[tuple[str, ...], dict[tuple[str, str], dict[str, kit.Option]]] = {}

    def state_of(self, target: Target) -> dict[str, dict[str, Any]]:
        """The selections made so far in a message or modal, as `state.values`."""
        return self._state.setdefault(self._key(target), {})

    def suggested(self, target: Target, block_id: str, action_id: str) -> list[kit.Option]:
        """The options the app answered so far for an external select (newest text wins)."""
        found = self._suggested.get(self._key(target), {}).get((block_id, action_id), {})
        return list(found.values())

    def _remember(self, target: Target, bid: str, aid: str, options: list[kit.Option]) -> None:
        known = self._suggested.setdefault(self._key(target), {}).setdefault((bid, aid), {})
        known.update({option["value"]: option for option in options})

    def _keep_inputs(self, target: Target, inputs: Values | None) -> None:
        """What the person typed or chose in a modal's inputs, which Slack reports in the
        view's state with an action (the page sends it along only then)."""
        if not inputs or not isinstance(target, ModalView):
            return
        blocks = list(target.view.get("blocks") or [])
        typed = {bid: dict(entries) for bid, entries in inputs.items()}
        chosen = kit.submission_state(blocks, {}, typed, self._suggestions(target))
        for bid, entries in typed.items():
            for aid in entries:
                self.state_of(target).setdefault(bid, {})[aid] = chosen[bid][aid]

    def _suggestions(self, target: Target) -> dict[tuple[str, str], list[kit.Option]]:
        found = self._suggested.get(self._key(target), {})
        return {where: list(options.values()) for where, options in found.items()}

    @staticmethod
    def _message_container(message: Message) -> dict[str, Any]:
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.ephemeral_to is not None,
        }
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
        return container

    def _response_urls(
        self, view: ModalView, state: dict[str, dict[str, Any]], user_id: str
    ) -> list[dict[str, str]]:
        """One URL per conversation picker with `response_url_enabled`, as Slack adds."""
        urls = []
        for bid, aid, _, element in kit.elements(list(view.view.get("blocks") or [])):
            entry = state.get(bid, {}).get(aid) or {}
            channel = entry.get("selected_conversation") or entry.get("selected_channel")
            if element.get("response_url_enabled") and channel:
                url = self.workspace.response_url(channel_id=channel, user_id=user_id)
                urls.append(
                    {"block_id": bid, "action_id": aid, "channel_id": channel, "response_url": url}
                )
        return urls

    def _view_payload(self, view: ModalView | HomeView) -> dict[str, Any]:
        ws = self.workspace
        ids = {"team_id": ws.team_id, "app_id": ws.app_id, "bot_id": ws.bot_id}
        chosen = kit.current(self._blocks(view), self.state_of(view))
        if isinstance(view, HomeView):  # Slack sends a Home's selections as a modal's
            return {**view.as_api(**ids), "state": {"values": copy.deepcopy(chosen)}}
        return view.as_api(**ids, state_values=chosen)

    def _blocks(self, target: Target) -> list[kit.Block]:
        if isinstance(target, ModalView):
            return list(target.view.get("blocks") or [])
        return target.blocks

    @staticmethod
    def _key(target: Target) -> tuple[str, ...]:
        if isinstance(target, Message):
            return ("message", target.channel, target.ts)
        return ("view", target.id)
