"""App Home views (views.publish): the latest Home view per user, for `Workspace`."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from .calls import CallLog
from .checks import check_blocks
from .models import HomeView, WorkspaceError

MAX_HOME_BLOCKS = 100


def check_home_view(view: Any) -> dict[str, Any]:
    """Slack's checks on a Home view, answered with `invalid_arguments` as Slack does."""
    if not isinstance(view, dict) or view.get("type") != "home":
        raise WorkspaceError("invalid_arguments")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or len(blocks) > MAX_HOME_BLOCKS:
        raise WorkspaceError("invalid_arguments")
    if not all(isinstance(block, dict) for block in blocks):
        raise WorkspaceError("invalid_blocks")
    check_blocks(blocks)
    return copy.deepcopy(view)


class HomeTabs(CallLog):
    """Each user's App Home: one view, replaced by every publish."""

    _serial: int
    users: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self._homes: dict[str, HomeView] = {}

    def home_of(self, user: str) -> HomeView | None:
        """The Home view last published for `user`, if any."""
        return self._homes.get(user)

    def publish_home(self, user: str, view: Any, *, hash: str | None = None) -> HomeView:
        """views.publish: `view` (checked as Slack checks it) becomes `user`'s Home; with
        `hash`, only if it is the hash of the view it replaces."""
        view = check_home_view(view)
        if user not in self.users:
            raise WorkspaceError("user_not_found")
        current = self._homes.get(user)
        if hash is not None and (current is None or hash != current.hash):
            raise WorkspaceError("hash_conflict")
        if current is None:
            self._serial += 1
            current = HomeView(id=f"V{self._serial:010d}", hash="", user=user, view={})
            self._homes[user] = current
        current.view, current.hash = view, f"{int(time.time())}.{secrets.token_hex(4)}"
        self._changed()
        return current
