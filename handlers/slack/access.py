"""Who may use the bot: helpdesk staff, and admins for what cannot be undone.

Members come from user ids in the settings or from Slack user groups, read with
`usergroups.users.list` (Slack's Tier 2: about 20 calls a minute) and cached. When Slack
cannot be asked, the last answer stands for a while (a blip must not lock the helpdesk
out), but not for ever: someone removed from the admin group must lose the role even
while Slack keeps failing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
STALE_LIMIT_SECONDS = 1800.0
"""How long a cached group may stand in for Slack while Slack cannot be asked."""


@dataclass
class AccessPolicy:
    helpdesk_users: frozenset[str] = frozenset()
    helpdesk_usergroup: str = ""
    admin_users: frozenset[str] = frozenset()
    admin_usergroup: str = ""
    clock: Callable[[], float] = time.monotonic
    _groups: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)

    async def is_admin(self, user_id: str, client: AsyncWebClient) -> bool:
        return user_id in self.admin_users or user_id in await self._members(
            self.admin_usergroup, client
        )

    async def is_helpdesk(self, user_id: str, client: AsyncWebClient) -> bool:
        if user_id in self.helpdesk_users or user_id in await self._members(
            self.helpdesk_usergroup, client
        ):
            return True
        return await self.is_admin(user_id, client)

    async def _members(self, usergroup: str, client: AsyncWebClient) -> frozenset[str]:
        if not usergroup:
            return frozenset()
        cached = self._groups.get(usergroup)
        if cached and self.clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await client.usergroups_users_list(usergroup=usergroup)
            members = frozenset(response.get("users") or [])
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else error
            if cached and self.clock() - cached[0] < STALE_LIMIT_SECONDS:
                log.warning(
                    "could not read Slack user group %s (%s); using the last answer",
                    usergroup,
                    reason,
                )
                return cached[1]
            log.warning(
                "could not read Slack user group %s (%s); letting nobody in through it",
                usergroup,
                reason,
            )
            return frozenset()
        self._groups[usergroup] = (self.clock(), members)
        return members
