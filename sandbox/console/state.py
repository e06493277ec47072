"""What the console shows one person: a channel, its threads, their ephemeral messages, modal,
their App Home, and the sidebar's channels with the newest message each (so the page can
mark new activity).

Blocks go out with every `block_id` and `action_id` filled in the way the fake Slack fills
them in (`blk<index>`, `act<index>`), so the page can name any element in an action.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from sandbox.fake_slack import HomeView, Message, ModalView, SlackDriver, Workspace
from sandbox.fake_slack import blocks as kit


def annotated(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of `blocks` with the ids Slack would use for the ones left out."""
    shown = copy.deepcopy([block for block in blocks if isinstance(block, dict)])
    for index, block in enumerate(shown):
        block["block_id"] = kit.block_id(block, index)
        kind = block.get("type")
        if kind == "actions":
            found = block.get("elements") or []
        elif kind == "section":
            found = [block["accessory"]] if isinstance(block.get("accessory"), dict) else []
        elif kind == "input":
            found = [block["element"]] if isinstance(block.get("element"), dict) else []
        else:
            found = []
        for position, element in enumerate(found):
            if isinstance(element, dict):
                element["action_id"] = kit.action_id(element, position)
    return shown


def _order(message: Message) -> tuple[int, int]:
    return _ts_order(message.ts)


def _ts_order(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int(micros or 0)


class StateBuilder:
    def __init__(self, workspace: Workspace, driver: SlackDriver) -> None:
        self.workspace = workspace
        self.driver = driver
        # Slack keeps a select's choice per person; the driver keeps one per message.
        self._chosen_by: dict[tuple[str, str, str, str], str] = {}

    def chose(
        self,
        target: Message | ModalView | HomeView,
        action_id: str,
        user: str,
        block_id: str | None = None,
    ) -> None:
        """`user` just chose in `target`'s element `action_id` (a select, not a button)."""
        if isinstance(target, Message):
            bid, aid, _, _ = kit.find(target.blocks, action_id, block=block_id)
            self._chosen_by[target.channel, target.ts, bid, aid] = user

    def _choices(self, target: Message | ModalView | HomeView, user: str) -> dict[str, Any]:
        """What `user` chose in the target's selects so far, as `state.values`."""
        blocks = target.view.get("blocks") if isinstance(target, ModalView) else target.blocks
        try:
            keeps = any(kit.keeps_state(e) for *_, e in kit.elements(list(blocks or [])))
        except (AttributeError, TypeError):  # blocks the fake does not understand
            return {}
        if not keeps:
            return {}
        kept = copy.deepcopy(self.driver.state_of(target))
        if not isinstance(target, Message):  # a view is one person's, and so is its state
            return kept
        return {
            bid: mine
            for bid, entries in kept.items()
            if (
                mine := {
                    aid: entry
                    for aid, entry in entries.items()
                    if self._chosen_by.get((target.channel, target.ts, bid, aid)) == user
                }
            )
        }

    def message(
        self, message: Message, user: str, replies: list[Message] | None = None
    ) -> dict[str, Any]:
        ws = self.workspace
        return {
            "channel": message.channel,
            "ts": message.ts,
            "user": message.user,
            "author": ws.users.get(message.user, message.user),
            "bot": message.bot_id is not None,
            "text": message.text,
            "blocks": annotated(message.blocks),
            "edited": message.edited,
            "ephemeral": message.ephemeral_to is not None,
            "thread_ts": message.thread_ts,
            "state": self._choices(message, user),
            "replies": [self.message(reply, user) for reply in replies or []],
        }

    def conversation(self, channel: str, user: str) -> list[dict[str, Any]]:
        """Top-level messages with their replies; `user`'s ephemeral ones in their place."""
        ws = self.workspace
        top = list(ws.messages(channel))
        threads: dict[str, list[Message]] = {m.ts: list(ws.replies(channel, m.ts)) for m in top}
        for mine in ws.ephemeral(channel, user):
            if mine.is_reply and mine.thread_ts in threads:
                threads[mine.thread_ts].append(mine)
            else:
                top.append(mine)
        top.sort(key=_order)
        return [self.message(m, user, sorted(threads.get(m.ts, []), key=_order)) for m in top]

    def latest(self, channel: str, user: str) -> str | None:
        """The ts of the newest message `user` sees in `channel`, thread replies included."""
        ws = self.workspace
        top = ws.messages(channel)
        replies = [reply for m in top for reply in ws.replies(channel, m.ts)]
        seen = [m.ts for m in (*top, *replies, *ws.ephemeral(channel, user))]
        return max(seen, key=_ts_order, default=None)

    def modal(self, user: str) -> dict[str, Any] | None:
        """The top of the person's newest open modal, with the errors the bot sent for it."""
        views = self.workspace.views_of(user)
        if not views:
            return None
        view = views[-1]
        body = view.view

        def text(key: str) -> str | None:
            value = body.get(key)
            return str(value.get("text") or "") if isinstance(value, dict) else None

        return {
            "view_id": view.id,
            "hash": view.hash,
            "callback_id": view.callback_id,
            "title": text("title") or "",
            "submit": text("submit"),
            "close": text("close"),
            "depth": view.position,
            "blocks": annotated(list(body.get("blocks") or [])),
            "errors": dict(view.errors),
            "state": self._choices(view, user),
        }

    def home(self, user: str) -> dict[str, Any] | None:
        """The App Home the bot last published for `user` (None if it never did)."""
        home = self.workspace.home_of(user)
        if home is None:
            return None
        return {
            "view_id": home.id,
            "hash": home.hash,
            "blocks": annotated(home.blocks),
            "state": self._choices(home, user),
        }

    def state(self, *, channel: str, user: str, listed: Sequence[str] = ()) -> dict[str, Any]:
        """`user`'s view of `channel`, with `listed` channels (the sidebar) and their news."""
        ws = self.workspace
        dm = f"D{user}"
        return {
            "revision": ws.revision,
            "user": user,
            "channel": {"id": channel, "name": ws.channels.get(channel, channel)},
            "sidebar": [
                {"id": cid, "name": ws.channels.get(cid, cid), "latest": self.latest(cid, user)}
                for cid in listed or [channel]
            ],
            "messages": self.conversation(channel, user),
            "direct": self.conversation(dm, user) if dm in ws.channels else [],
            "modal": self.modal(user),
            "home": self.home(user),
            "users": dict(ws.users),
            "channels": {cid: name for cid, name in ws.channels.items() if cid[:1] != "D"},
        }
