"""The console's routes: the page, its static files, and the JSON API the page drives.

All URLs are built from the mount point (`root_path`), so `console_routes(...)` can be
mounted anywhere, e.g. `Mount("/sandbox", routes=console_routes(...))`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from sandbox.fake_slack import (
    HomeView,
    Message,
    ModalView,
    SlackDriver,
    SuggestionError,
    Workspace,
)

from . import inputs
from .inputs import BadRequest
from .state import StateBuilder
from .web import NO_STORE, bot_answer, disconnected, guarded_api, json_answer, static_file

HERE = Path(__file__).parent
MAX_WAIT = 25.0
RunJobs = Callable[[], Awaitable[Sequence[str]]]
"""Runs each of the app's scheduled jobs once, now: a line per job for the person to read.
Injected, since the console knows nothing of the app beyond Slack."""


@dataclass(frozen=True)
class ConsoleUser:
    """Someone the console can act as; `role` is shown next to the name."""

    user_id: str
    name: str
    role: str


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


class Console:
    def __init__(
        self,
        workspace: Workspace,
        driver: SlackDriver,
        users: Sequence[ConsoleUser],
        channels: Sequence[str],
        title: str,
        links: Sequence[tuple[str, str]],
        run_jobs: RunJobs | None = None,
    ) -> None:
        if not users:
            raise ValueError("the console needs at least one user to act as")
        unknown = [channel for channel in channels if channel not in workspace.channels]
        if not channels or unknown:
            raise ValueError(f"the console shows channels the workspace has, not {unknown}")
        self.workspace, self.driver = workspace, driver
        self.channels = list(dict.fromkeys(channels))
        self.channel_id = self.channels[0]
        self.users = {user.user_id: user for user in users}
        self.title, self.links = title, list(links)
        self.run_jobs, self._jobs_running = run_jobs, asyncio.Lock()
        self.builder = StateBuilder(workspace, driver)
        self.templates = _templates()
        for user in users:
            if workspace.users.get(user.user_id) is None:
                workspace.add_user(user.user_id, user.name)

    def _user(self, user_id: Any) -> str:
        if not isinstance(user_id, str) or user_id not in self.users:
            raise BadRequest(f"unknown user {user_id!r}; the console acts as {list(self.users)}")
        return user_id

    def _channel(self, channel: Any) -> str:
        """One of the console's channels; none given means the first (where it opens)."""
        if channel is None:
            return self.channel_id
        if channel not in self.channels:
            raise BadRequest(f"unknown channel {channel!r}; the console shows {self.channels}")
        return str(channel)

    async def page(self, request: Request) -> Response:
        base = str(request.scope.get("root_path", "")).rstrip("/")
        wanted = request.query_params.get("user", "")
        channel = request.query_params.get("channel", "")
        channel = channel if channel in self.channels else self.channel_id
        context = {
            "base": base,
            "title": self.title,
            "links": self.links,
            "users": list(self.users.values()),
            "selected": wanted if wanted in self.users else next(iter(self.users)),
            "channels": [(cid, self.workspace.channels.get(cid, cid)) for cid in self.channels],
            "channel_id": channel,
            "channel_name": self.workspace.channels.get(channel, channel),
            "home": request.query_params.get("view") == "home",
            "app_name": self.workspace.users.get(self.workspace.bot_user_id, "App"),
            "jobs": self.run_jobs is not None,
        }
        return self.templates.TemplateResponse(request, "console.html", context, headers=NO_STORE)

    async def state(self, request: Request) -> Response:
        user = self._user(request.query_params.get("user"))
        channel = self._channel(request.query_params.get("channel"))
        since = int(inputs.number(request.query_params.get("since"), "since", default=-1))
        wait = inputs.number(request.query_params.get("wait"), "wait", default=MAX_WAIT)
        if self.workspace.revision <= since:
            change = asyncio.ensure_future(
                self.workspace.changed(since, timeout=min(max(wait, 0.0), MAX_WAIT))
            )
            gone = asyncio.ensure_future(disconnected(request))
            _, pending = await asyncio.wait({change, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        return json_answer(self.builder.state(channel=channel, user=user, listed=self.channels))

    async def command(self, request: Request) -> Response:
        body = await inputs.json_body(request)
        user = self._user(body.get("user"))
        channel = self._channel(body.get("channel"))
        typed = inputs.command_text(inputs.text(body, "text", required=False) or "")
        response = await self.driver.command(typed, user_id=user, channel_id=channel)
        return bot_answer(response)

    async def home(self, request: Request) -> Response:
        """The person opens the app's Home tab: the bot hears `app_home_opened` and publishes
        their Home (it shows in the state's `home` once it has)."""
        body = await inputs.json_body(request)
        user = self._user(body.get("user"))
        return bot_answer(await self.driver.open_home(user))

    async def jobs(self, request: Request) -> Response:
        """ "Run jobs now": every scheduled job once, one click after another (never two runs
        at once); the lines say how each went. What the jobs post shows in the channels."""
        body = await inputs.json_body(request)
        self._user(body.get("user"))
        if self.run_jobs is None:
            return json_answer({"error": "this console was given no jobs to run"}, 404)
        async with self._jobs_running:
            lines = [str(line) for line in await self.run_jobs()]
        return json_answer({"lines": lines})

    def _target(self, body: dict[str, Any], user: str) -> Message | ModalView | HomeView:
        """The message (`channel` + `ts`, ephemeral ones included), or the modal or the
        person's own Home (`view_id`)."""
        view_id = inputs.text(body, "view_id", required=False)
        home = self.workspace.home_of(user)
        if view_id is not None and home is not None and home.id == view_id:
            return home
        if view_id is not None:
            try:
                view = self.workspace.view(view_id)
            except KeyError:
                raise BadRequest(f"no view {view_id}") from None
            if view.user != user or view.closed:
                raise BadRequest(f"view {view_id} is not open for {user}")
            return view
        channel = inputs.text(body, "channel") or ""
        ts = inputs.text(body, "ts") or ""
        message = self.workspace.message(channel, ts)
        elsewhere = (
            message is not None and message.channel[:1] == "D" and message.channel != f"D{user}"
        )
        if message is None or elsewhere or message.ephemeral_to not in (None, user):
            raise BadRequest(f"no message {ts} in {channel}")
        return message

    async def click(self, request: Request) -> Response:
        """A button or overflow menu; `block_id` picks among elements sharing an action_id,
        and in a modal `inputs` is what its inputs hold (Slack sends it as the state)."""
        body = await inputs.json_body(request)
        user = self._user(body.get("user"))
        action_id = inputs.text(body, "action_id") or ""
        block_id = inputs.text(body, "block_id", required=False)
        target = self._target(body, user)
        selected = inputs.chosen(body)
        if selected is not None:
            self.builder.chose(target, action_id, user, block_id)
        response = await self.driver.click(
            target,
            action_id,
            user_id=user,
            value=inputs.text(body, "value", required=False),
            selected=selected,
            block_id=block_id,
            inputs=inputs.modal_values(body, "inputs"),
        )
        return bot_answer(response)

    async def select(self, request: Request) -> Response:
        body = await inputs.json_body(request)
        user = self._user(body.get("user"))
        action_id = inputs.text(body, "action_id") or ""
        block_id = inputs.text(body, "block_id", required=False)
        values = inputs.strings(body, "values")
        target = self._target(body, user)
        # before: the bot may replace the blocks
        self.builder.chose(target, action_id, user, block_id)
        response = await self.driver.select(
            target,
            action_id,
            values=values,
            user_id=user,
            block_id=block_id,
            inputs=inputs.modal_values(body, "inputs"),
        )
        return bot_answer(response)

    async def suggest(self, request: Request) -> Response:
        """Someone typed `value` in an external select: Slack's options request to the app
        (none for text shorter than the select's `min_query_length`: a 400), and the options
        the app answered (`{"options": [...]}`, groups flattened), or why it failed (502)."""
        body = await inputs.json_body(request)
        user = self._user(body.get("user"))
        action_id = inputs.text(body, "action_id") or ""
        typed = inputs.text(body, "value", required=False) or ""
        target = self._target(body, user)
        try:
            found = await self.driver.suggest(
                target,
                action_id,
                value=typed,
                user_id=user,
                block_id=inputs.text(body, "block_id", required=False),
            )
        except SuggestionError as error:
            return json_answer({"error": str(error)}, 502)
        return json_answer({"options": found})

    def _view(self, body: dict[str, Any], user: str) -> ModalView:
        if inputs.text(body, "view_id", required=False) is None:
            raise BadRequest("'view_id' must be a non-empty string")
        target = self._target(body, user)
        if not isinstance(target, ModalView):
            raise BadRequest(f"view {body['view_id']} is a Home, not a modal")
        return target

    async def submit(self, request: Request) -> Response:
        body = await inputs.json_body(request)
        user = self._user(body.get("user"))
        view = self._view(body, user)
        values = inputs.modal_values(body)
        response = await self.driver.submit(view, values, user_id=user)
        return bot_answer(response, errors=dict(view.errors), closed=view.closed)

    async def close(self, request: Request) -> Response:
        body = await inputs.json_body(request)
        user = self._user(body.get("user"))
        view = self._view(body, user)
        response = await self.driver.close(view, user_id=user, clear=body.get("clear") is True)
        return bot_answer(response, closed=True)


def console_routes(
    *,
    workspace: Workspace,
    driver: SlackDriver,
    users: Sequence[ConsoleUser],
    channel_id: str = "C0HELPDESK",
    channels: Sequence[str] = (),
    title: str = "xero-bot sandbox",
    links: Sequence[tuple[str, str]] = (),
    run_jobs: RunJobs | None = None,
) -> list[BaseRoute]:
    """The console's routes, relative to where they are mounted (e.g. "/sandbox").

    `users` are who the page can act as (added to the workspace if it lacks them); `links`
    are extra (label, url) pairs shown in the page header. The page opens on `channel_id`
    and lists `channels` (ids the workspace has) beside it, as Slack's sidebar does: the
    bot may post anywhere, and a person switches to the channel to see it. With `run_jobs`
    the page has a "Run jobs now" button that awaits it.
    """
    listed = [channel_id, *channels]
    console = Console(workspace, driver, users, listed, title, links, run_jobs)
    return [
        Route("/", console.page, methods=["GET"]),
        Route("/static/{name}", static_file, methods=["GET"]),
        Route("/api/state", guarded_api(console.state), methods=["GET"]),
        Route("/api/command", guarded_api(console.command), methods=["POST"]),
        Route("/api/click", guarded_api(console.click), methods=["POST"]),
        Route("/api/select", guarded_api(console.select), methods=["POST"]),
        Route("/api/suggest", guarded_api(console.suggest), methods=["POST"]),
        Route("/api/submit", guarded_api(console.submit), methods=["POST"]),
        Route("/api/close", guarded_api(console.close), methods=["POST"]),
        Route("/api/home", guarded_api(console.home), methods=["POST"]),
        Route("/api/jobs", guarded_api(console.jobs), methods=["POST"]),
    ]
