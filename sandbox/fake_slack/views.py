"""Modal view stacks (views.open / push / update, submissions closing them), for `Workspace`;
its App Home views come from `HomeTabs`."""

from __future__ import annotations

import copy
import secrets
import time
from typing import TYPE_CHECKING, Any

from .checks import check_blocks
from .home import HomeTabs
from .models import ModalView, WorkspaceError

if TYPE_CHECKING:
    from .models import Trigger

MAX_STACK = 3


def check_view(view: Any) -> dict[str, Any]:
    """Slack's checks on a modal, answered with `invalid_arguments` as Slack does."""
    if not isinstance(view, dict) or view.get("type") != "modal":
        raise WorkspaceError("invalid_arguments")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 100:
        raise WorkspaceError("invalid_arguments")
    for key in ("title", "submit", "close"):
        text = view.get(key)
        if text is None and key != "title":
            continue
        if not isinstance(text, dict) or not 0 < len(str(text.get("text", ""))) <= 24:
            raise WorkspaceError("invalid_arguments")
    check_blocks(blocks)
    if any(b.get("type") == "input" for b in blocks) and "submit" not in view:
        raise WorkspaceError("invalid_arguments")
    return copy.deepcopy(view)


class ViewStacks(HomeTabs):
    """Each user's modals; a stack is the views sharing a `root_view_id`."""

    _serial: int

    if TYPE_CHECKING:

        def use_trigger(self, trigger_id: str) -> Trigger: ...

    def __init__(self) -> None:
        super().__init__()
        self._views: dict[str, ModalView] = {}

    def views_of(self, user: str, *, include_closed: bool = False) -> list[ModalView]:
        """The user's modal views, oldest first; by default only the open ones."""
        return [
            v for v in self._views.values() if v.user == user and (include_closed or not v.closed)
        ]

    def view(self, view_id: str) -> ModalView:
        """A view by id (KeyError if none)."""
        return self._views[view_id]

    def stack(self, view: ModalView) -> list[ModalView]:
        """The open views of `view`'s modal, root first."""
        root = view.root_view_id
        return [v for v in self._views.values() if v.root_view_id == root and not v.closed]

    def open_view(self, trigger_id: str, view: Any) -> ModalView:
        """views.open; `view` is whatever the bot sent, checked as Slack checks it."""
        view = check_view(view)
        trigger = self.use_trigger(trigger_id)
        return self._add(view, user=trigger.user_id or "", previous=None)

    def push_view(self, trigger_id: str, view: Any) -> ModalView:
        """views.push: on top of the modal the trigger came from (else the user's newest)."""
        view = check_view(view)
        trigger = self.use_trigger(trigger_id)
        if trigger.view_id is not None:
            below = self._views.get(trigger.view_id)
        else:
            below = next(reversed(self.views_of(trigger.user_id or "")), None)
        if below is None or below.closed:
            raise WorkspaceError("not_found")
        return self.push_onto(below, view)

    def push_onto(self, below: ModalView, view: Any) -> ModalView:
        """A view on top of `below`'s stack (views.push, or `response_action: push`)."""
        view = check_view(view)
        stack = self.stack(below)
        if len(stack) >= MAX_STACK:
            raise WorkspaceError("push_limit_reached")
        return self._add(view, user=below.user, previous=stack[-1])

    def update_view(
        self,
        view: Any,
        *,
        view_id: str | None = None,
        external_id: str | None = None,
        hash: str | None = None,
    ) -> ModalView:
        view = check_view(view)
        if view_id:
            target = self._views.get(view_id)
        else:
            target = next((v for v in self._views.values() if v.external_id == external_id), None)
        if target is None or target.closed:
            raise WorkspaceError("not_found")
        if hash is not None and hash != target.hash:
            raise WorkspaceError("hash_conflict")
        new_external = view.get("external_id") or target.external_id
        self._check_external_id(new_external, but=target)
        target.view, target.external_id = view, new_external
        target.hash, target.errors = self._new_hash(), {}
        self._changed()
        return target

    def close_view(self, view: ModalView, *, clear: bool = False) -> None:
        """The user submitted or closed `view`; `clear` closes its whole stack."""
        for closing in self.stack(view) if clear else [view]:
            closing.closed = True
        self._changed()

    def show_errors(self, view: ModalView, errors: dict[str, str]) -> None:
        """A `response_action: errors` answer: the modal stays open showing them."""
        view.errors = dict(errors)
        self._changed()

    def _add(self, view: dict[str, Any], *, user: str, previous: ModalView | None) -> ModalView:
        external_id = view.get("external_id") or None
        self._check_external_id(external_id, but=None)
        self._serial += 1
        view_id = f"V{self._serial:010d}"
        modal = ModalView(
            id=view_id,
            hash=self._new_hash(),
            user=user,
            view=view,
            position=0 if previous is None else previous.position + 1,
            root_view_id=view_id if previous is None else previous.root_view_id,
            previous_view_id=None if previous is None else previous.id,
            external_id=external_id,
        )
        self._views[view_id] = modal
        self._changed()
        return modal

    def _check_external_id(self, external_id: str | None, *, but: ModalView | None) -> None:
        if external_id and any(
            v.external_id == external_id and v is not but for v in self._views.values()
        ):
            raise WorkspaceError("duplicate_external_id")

    @staticmethod
    def _new_hash() -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"
