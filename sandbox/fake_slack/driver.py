"""`SlackDriver`: a person using Slack — runs commands, clicks, selects, submits modals, and
opens the App Home (and clicks in it)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from . import blocks as kit
from .memory import ClientMemory, Target, Values
from .models import Message, ModalView
from .requests import (
    SignedRequest,
    app_home_opened,
    block_actions,
    slash_command,
    view_closed,
    view_submission,
)
from .suggestions import EXTERNAL, answered_options, block_suggestion, min_query_length
from .workspace import Workspace

Send = Callable[[SignedRequest], Awaitable[httpx.Response]]
Chosen = str | list[str] | None


class SlackDriver(ClientMemory):
    """Sends the bot the signed requests Slack would, and applies the bot's answers to them.

    `send` delivers a request to the bot's request URL, e.g.
    `lambda r: client.post("/slack/events", content=r.body, headers=r.headers)`.
    `open_home` opens the app's Home tab (an `app_home_opened` event).
    Each request gets a fresh trigger id and (for messages) a response URL from the
    workspace. Selections are kept per message and per modal and sent as `state.values`.
    A command's ack with text/blocks shows like Slack shows it (ephemeral unless
    `response_type: in_channel`); a view_submission's ack closes, updates, pushes, clears
    or shows errors on the modal. `suggest` types in an external select and returns the
    options the app answered; choosing one of them later (`select`, `click`, `submit`)
    sends the option as the app gave it, text included.
    """

    def __init__(self, workspace: Workspace, signing_secret: str, send: Send) -> None:
        super().__init__(workspace)
        self.signing_secret = signing_secret
        self.send = send
        self._events = 0

    async def command(
        self, text: str, *, user_id: str, channel_id: str = "C0HELPDESK", command: str = "/xero"
    ) -> httpx.Response:
        ws = self.workspace
        channel = ws.channel_id(channel_id)
        request = slash_command(
            signing_secret=self.signing_secret,
            command=command,
            text=text,
            user_id=user_id,
            user_name=ws.users.get(user_id, user_id),
            channel_id=channel,
            channel_name=ws.channels.get(channel, ""),
            team_id=ws.team_id,
            response_url=ws.response_url(channel_id=channel, user_id=user_id),
            trigger_id=ws.new_trigger_id(user_id),
        )
        response = await self.send(request)
        answer = _json(response)
        if response.headers.get("content-type", "").startswith("text/plain"):
            answer = {"text": response.text}  # Bolt acks a text-only answer as plain text
        if response.status_code == 200 and (answer.get("text") or answer.get("blocks")):
            in_channel = answer.get("response_type") == "in_channel"
            ws.post(
                channel,
                text=str(answer.get("text") or ""),
                blocks=answer.get("blocks"),
                ephemeral_to=None if in_channel else user_id,
            )
        return response

    async def click(
        self,
        target: Target,
        action_id: str,
        *,
        user_id: str,
        value: str | None = None,
        selected: Chosen = None,
        block_id: str | None = None,
        inputs: Values | None = None,
    ) -> httpx.Response:
        """Click a button (`value` or `block_id` picks among elements sharing an action_id)
        or choose `selected` in a select/overflow, in a message, a modal or a Home view.
        In a modal, `inputs` (as `submit`'s values) is what the person has typed or chosen
        in its inputs so far: Slack reports it in the view's state."""
        bid, aid, block, element = kit.find(self._blocks(target), action_id, value, block=block_id)
        if element.get("type") != "button" and selected is None:
            raise ValueError(f"{action_id} is a {element.get('type')}: pass selected=")
        self._keep_inputs(target, inputs)
        response = await self._act(target, bid, aid, block, element, selected, user_id)
        assert response is not None
        return response

    async def select(
        self,
        target: Target,
        action_id: str,
        *,
        values: list[str],
        user_id: str,
        block_id: str | None = None,
        inputs: Values | None = None,
    ) -> httpx.Response | None:
        """Choose `values` in a select (an external select's: values `suggest` returned, or
        any value, then shown as its own text); None when Slack sends nothing (an input
        block's element without `dispatch_action`): the choice then only goes into the
        state. `inputs`: as for `click`."""
        bid, aid, block, element = kit.find(self._blocks(target), action_id, block=block_id)
        single = element.get("type") in kit.ONE_OPTION or element.get("type") in kit.ONE_PICK
        chosen: Chosen = (values[0] if values else None) if single else values
        self._keep_inputs(target, inputs)
        return await self._act(target, bid, aid, block, element, chosen, user_id)

    async def suggest(
        self,
        target: Target,
        action_id: str,
        *,
        value: str,
        user_id: str,
        block_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Type `value` in an external select: Slack's `block_suggestion` to the app, and the
        options it answered (option groups flattened, in order), remembered so that
        choosing one sends it as the app gave it. ValueError if `value` is shorter than
        the element's `min_query_length` (3 by default: Slack would send nothing);
        `SuggestionError` if the app answers other than 200 with options. The answer is not
        timed here, though Slack shows nothing if it takes over 3 s."""
        bid, aid, _, element = kit.find(self._blocks(target), action_id, block=block_id)
        if element.get("type") not in EXTERNAL:
            raise ValueError(f"{action_id} is a {element.get('type')}, not an external select")
        wanted = min_query_length(element)
        if len(value) < wanted:
            raise ValueError(
                f"{action_id} asks the app only from {wanted} characters typed; Slack sends "
                f"nothing for {value!r}"
            )
        ws = self.workspace
        where: dict[str, Any] = {}
        if isinstance(target, Message):
            where["channel_id"] = target.channel
            where["channel_name"] = ws.channels.get(target.channel, "")
            where["container"] = self._message_container(target)
        else:
            where["view"] = self._view_payload(target)
        request = block_suggestion(
            signing_secret=self.signing_secret,
            user_id=user_id,
            user_name=ws.users.get(user_id, user_id),
            team_id=ws.team_id,
            action_id=aid,
            block_id=bid,
            value=value,
            **where,
        )
        found = answered_options(await self.send(request), f"{bid}/{aid} for {value!r}")
        self._remember(target, bid, aid, found)
        return found

    async def submit(
        self, view: ModalView, values: dict[str, dict[str, Any]], *, user_id: str
    ) -> httpx.Response:
        """Submit a modal with `values[block_id][action_id]` (a value, a list of values, or
        a ready state entry with "type"); untouched inputs send their initial values."""
        ws = self.workspace
        if view.closed:
            raise ValueError(f"view {view.id} ({view.callback_id}) is closed")
        blocks = list(view.view.get("blocks") or [])
        suggested = self._suggestions(view)
        state = kit.submission_state(blocks, self.state_of(view), values, suggested)
        request = view_submission(
            signing_secret=self.signing_secret,
            user_id=user_id,
            user_name=ws.users.get(user_id, user_id),
            team_id=ws.team_id,
            view=self._view_payload(view),
            state_values=state,
            trigger_id=ws.new_trigger_id(user_id, view_id=view.id),
            response_urls=self._response_urls(view, state, user_id),
        )
        response = await self.send(request)
        if response.status_code == 200:
            answer = _json(response)
            action = answer.get("response_action")
            if action == "errors":
                ws.show_errors(view, answer.get("errors") or {})
            elif action == "update":
                ws.update_view(answer.get("view"), view_id=view.id)
            elif action == "push":
                ws.push_onto(view, answer.get("view"))
            else:
                ws.close_view(view, clear=action == "clear")
        return response

    async def close(
        self, view: ModalView, *, user_id: str, clear: bool = False
    ) -> httpx.Response | None:
        """The user closes the modal (`clear`: all of its stack); Slack tells the bot only
        if the view asked for `notify_on_close`."""
        ws = self.workspace
        ws.close_view(view, clear=clear)
        if not view.view.get("notify_on_close"):
            return None
        request = view_closed(
            signing_secret=self.signing_secret,
            user_id=user_id,
            user_name=ws.users.get(user_id, user_id),
            team_id=ws.team_id,
            view=self._view_payload(view),
            is_cleared=clear,
        )
        return await self.send(request)

    async def open_home(self, user_id: str, *, tab: str = "home") -> httpx.Response:
        """The user opens the app's Home tab (or `tab="messages"`): Slack sends the bot an
        `app_home_opened` event, with the Home view published for them before, if any. The
        bot answers by publishing a view (`workspace.home_of(user_id)`), after its ack."""
        ws = self.workspace
        self._events += 1
        home = ws.home_of(user_id)
        request = app_home_opened(
            signing_secret=self.signing_secret,
            user_id=user_id,
            channel_id=ws.dm_channel(user_id),
            event_id=f"Ev{self._events:08d}",
            tab=tab,
            view=None
            if home is None
            else home.as_api(team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id),
            team_id=ws.team_id,
            bot_user_id=ws.bot_user_id,
        )
        return await self.send(request)

    async def _act(
        self,
        target: Target,
        bid: str,
        aid: str,
        block: kit.Block,
        element: kit.Element,
        chosen: Chosen,
        user_id: str,
    ) -> httpx.Response | None:
        ws = self.workspace
        known = self._suggestions(target).get((bid, aid), ())
        if kit.keeps_state(element):
            entry = kit.state_value(element, chosen, known)
            self.state_of(target).setdefault(bid, {})[aid] = entry
        if not kit.dispatches(block, element):
            return None
        action = kit.action(bid, aid, element, chosen, f"{time.time():.6f}", known)
        common: dict[str, Any] = {
            "signing_secret": self.signing_secret,
            "user_id": user_id,
            "user_name": ws.users.get(user_id, user_id),
            "team_id": ws.team_id,
            "actions": [action],
            "state_values": kit.message_state(target.blocks, self.state_of(target))
            if isinstance(target, Message)
            else kit.current(self._blocks(target), self.state_of(target)),
        }
        if not isinstance(target, Message):
            request = block_actions(
                **common,
                view=self._view_payload(target),
                trigger_id=ws.new_trigger_id(user_id, view_id=target.id),
            )
        else:
            ephemeral = target.ephemeral_to is not None
            request = block_actions(
                **common,
                channel_id=target.channel,
                message=None if ephemeral else target.as_api(ws.team_id),
                container=self._message_container(target),
                response_url=ws.response_url(
                    channel_id=target.channel, user_id=user_id, message_ts=target.ts
                ),
                trigger_id=ws.new_trigger_id(user_id),
            )
        return await self.send(request)


def _json(response: httpx.Response) -> dict[str, Any]:
    """The bot's ack body as JSON (empty when it acked with no body)."""
    try:
        answer = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
