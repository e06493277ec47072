"""Slack's checks on a view's blocks and elements: what views.open, push, update and publish
refuse with `invalid_arguments`, so a bot's broken view fails here as it would in Slack.

Only what Slack is known to refuse is checked: ids repeated, an input without a label or
element, options missing or doubled, an initial option that is none of the options, a
date that is not YYYY-MM-DD, a negative `min_query_length`, over-long option lists.
"""

from __future__ import annotations

from typing import Any

from . import blocks as kit
from .models import WorkspaceError

LISTED = {"static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"}
GROUPABLE = {"static_select", "multi_static_select"}
MAX_LISTED = {"radio_buttons": 10, "checkboxes": 10, "overflow": 5}


def refuse(why: str) -> WorkspaceError:
    """Slack's answer to a bad view; `why` is kept for whoever reads the traceback."""
    error = WorkspaceError("invalid_arguments")
    error.add_note(why)
    return error


def check_blocks(blocks: list[Any]) -> None:
    """Raise `invalid_arguments` for a view's blocks that Slack would refuse."""
    if not all(isinstance(block, dict) for block in blocks):
        raise refuse("every block must be an object")
    block_ids = [block.get("block_id") for block in blocks if block.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        raise refuse(f"repeated block_id in {block_ids}")
    for block in blocks:
        if block.get("type") == "input":
            label = block.get("label")
            if not isinstance(label, dict) or not label.get("text"):
                raise refuse(f"input {block.get('block_id')!r} needs a label")
            if not isinstance(block.get("element"), dict):
                raise refuse(f"input {block.get('block_id')!r} needs an element")
    seen: set[tuple[str, str]] = set()
    for bid, aid, _, element in kit.elements(blocks):
        if not isinstance(element, dict):
            raise refuse(f"an element of block {bid!r} is not an object")
        if (bid, aid) in seen and element.get("action_id") is not None:
            raise refuse(f"repeated action_id {aid!r} in block {bid!r}")
        seen.add((bid, aid))
        check_element(element, f"{bid}/{aid}")


def check_element(element: dict[str, Any], where: str) -> None:
    kind = str(element.get("type"))
    if kind in LISTED:
        _check_listed(element, kind, where)
    elif kind in kit.EXTERNAL:
        if "options" in element or "option_groups" in element:
            raise refuse(f"{where}: an {kind} has no options of its own")
        length = element.get("min_query_length", 0)
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise refuse(f"{where}: min_query_length must be a whole number of 0 or more")
        initial = [element["initial_option"]] if "initial_option" in element else []
        for option in [*initial, *(element.get("initial_options") or [])]:
            _check_option(option, where)
    elif kind == "datepicker" and element.get("initial_date") is not None:
        initial = element["initial_date"]
        try:
            kit.picked(kind, str(initial))
        except ValueError:
            raise refuse(f"{where}: initial_date {initial!r} is not YYYY-MM-DD") from None


def _check_listed(element: dict[str, Any], kind: str, where: str) -> None:
    has_options, has_groups = "options" in element, "option_groups" in element
    if has_options == has_groups or (has_groups and kind not in GROUPABLE):
        allowed = "options or option_groups" if kind in GROUPABLE else "options"
        raise refuse(f"{where}: a {kind} needs {allowed} (exactly one)")
    groups = element.get("option_groups") or []
    if has_groups and (not isinstance(groups, list) or not 0 < len(groups) <= 100):
        raise refuse(f"{where}: 1 to 100 option groups")
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("label"), dict):
            raise refuse(f"{where}: each option group needs a label")
        if not isinstance(group.get("options"), list) or not 0 < len(group["options"]) <= 100:
            raise refuse(f"{where}: each option group needs 1 to 100 options")
    listed = element.get("options") if has_options else None
    most = MAX_LISTED.get(kind, 100)
    if has_options and (not isinstance(listed, list) or not 0 < len(listed) <= most):
        raise refuse(f"{where}: a {kind} takes 1 to {most} options")
    found = kit.options(element)
    for option in found:
        _check_option(option, where)
    values = {option["value"] for option in found}
    initial = [element["initial_option"]] if "initial_option" in element else []
    for option in [*initial, *(element.get("initial_options") or [])]:
        _check_option(option, where)
        if option["value"] not in values:
            raise refuse(f"{where}: initial option {option['value']!r} is not one of the options")


def _check_option(option: Any, where: str) -> None:
    if not (
        isinstance(option, dict)
        and isinstance(option.get("text"), dict)
        and isinstance(option["text"].get("text"), str)
        and isinstance(option.get("value"), str)
    ):
        raise refuse(f"{where}: an option needs a text object and a string value: {option!r}")
