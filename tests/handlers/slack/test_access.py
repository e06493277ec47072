"""Helpdesk and admin membership from settings and Slack user groups, cached."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.access import CACHE_SECONDS, STALE_LIMIT_SECONDS, AccessPolicy
from sandbox.fake_slack import Workspace
from sandbox.fake_slack import create_app as create_fake_slack
from tests.browser import free_socket, serve


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_members_of_the_user_groups_are_let_in_and_the_answer_is_cached() -> None:
    workspace = Workspace()
    workspace.add_usergroup("S0HELPDESK", ["U1", "U2"])
    workspace.add_usergroup("S0ADMINS", ["U9"])
    clock = Clock()
    policy = AccessPolicy(
        helpdesk_users=frozenset({"U5"}),
        helpdesk_usergroup="S0HELPDESK",
        admin_usergroup="S0ADMINS",
        clock=clock,
    )
    async with serve(create_fake_slack(workspace), free_socket()) as url:
        client = AsyncWebClient(token=workspace.bot_token, base_url=f"{url}/api/")

        assert await policy.is_helpdesk("U1", client)
        assert await policy.is_helpdesk("U5", client)
        assert await policy.is_helpdesk("U9", client)  # admins are helpdesk staff too
        assert not await policy.is_helpdesk("U7", client)
        assert await policy.is_admin("U9", client)
        assert not await policy.is_admin("U1", client)
        calls = len(workspace.calls_to("usergroups.users.list"))
        assert calls == 2  # one per group, then from the cache

        workspace.add_usergroup("S0HELPDESK", ["U1", "U2", "U7"])
        assert not await policy.is_helpdesk("U7", client)
        clock.now += CACHE_SECONDS + 1
        assert await policy.is_helpdesk("U7", client)


async def test_a_group_slack_cannot_read_lets_nobody_in_through_it() -> None:
    workspace = Workspace()
    policy = AccessPolicy(helpdesk_usergroup="S0MISSING")
    async with serve(create_fake_slack(workspace), free_socket()) as url:
        client = AsyncWebClient(token=workspace.bot_token, base_url=f"{url}/api/")
        assert not await policy.is_helpdesk("U1", client)


async def test_while_slack_fails_the_last_answer_stands_only_for_a_bounded_time() -> None:
    workspace = Workspace()
    workspace.add_usergroup("S0ADMINS", ["U9"])
    clock = Clock()
    policy = AccessPolicy(admin_usergroup="S0ADMINS", clock=clock)
    async with serve(create_fake_slack(workspace), free_socket()) as url:
        client = AsyncWebClient(token=workspace.bot_token, base_url=f"{url}/api/")
        assert await policy.is_admin("U9", client)
        del workspace.usergroups["S0ADMINS"]  # Slack now refuses to read the group

        clock.now += CACHE_SECONDS + 1
        assert await policy.is_admin("U9", client)  # a blip: the last answer stands
        clock.now = STALE_LIMIT_SECONDS + 1
        assert not await policy.is_admin("U9", client)
        assert len(workspace.calls_to("usergroups.users.list")) == 3
