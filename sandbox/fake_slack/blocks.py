"""Block Kit as Slack's client reads it: interactive elements, options, and state values.

A block without a `block_id` gets `blk<index>`, an element without an `action_id` gets
`act<index>` (Slack makes up random ones, which a bot can't depend on either).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

Block = dict[str, Any]
Element = dict[str, Any]
Option = dict[str, Any]
Suggested = Mapping[tuple[str, str], Sequence[Option]]
"""Options the app answered per (block_id, action_id) of an external select."""

EXTERNAL = frozenset({"external_select", "multi_external_select"})

ONE_OPTION = {"static_select", "external_select", "overflow", "radio_buttons"}
SOME_OPTIONS = {"multi_static_select", "multi_external_select", "checkboxes"}
# element type -> (state field, initial field)
ONE_PICK = {
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
}
PICK_FORMATS = {"datepicker": r"\d{4}-\d{2}-\d{2}", "timepicker": r"\d{2}:\d{2}"}
PICK_SHAPES = {"datepicker": "YYYY-MM-DD", "timepicker": "HH:mm"}
SOME_PICKS = {
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}


def block_id(block: Block, index: int) -> str:
    return str(block.get("block_id") or f"blk{index}")


def action_id(element: Element, index: int = 0) -> str:
    return str(element.get("action_id") or f"act{index}")


def elements(blocks: list[Block]) -> Iterator[tuple[str, str, Block, Element]]:
    """(block_id, action_id, block, element) per element of actions, section, input blocks."""
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "actions":
            found = list(block.get("elements") or [])
        elif kind == "section":
            found = [block["accessory"]] if block.get("accessory") else []
        elif kind == "input":
            found = [block["element"]] if block.get("element") else []
        else:
            found = []
        for position, element in enumerate(found):
            yield block_id(block, index), action_id(element, position), block, element


def find(
    blocks: list[Block], wanted: str, value: str | None = None, *, block: str | None = None
) -> tuple[str, str, Block, Element]:
    """The one element with action_id `wanted` (and button `value`, and `block` id, if given):
    several stores' selects share an action_id and differ by their block."""
    matches = [
        found
        for found in elements(blocks)
        if found[1] == wanted
        and (value is None or found[3].get("value") == value)
        and (block is None or found[0] == block)
    ]
    if len(matches) != 1:
        known = sorted(
            {f"{bid}/{aid}={e.get('value')!r}" for bid, aid, _, e in elements(blocks)}
            if value is not None
            else {f"{bid}/{aid}" for bid, aid, _, _ in elements(blocks)}
        )
        which = wanted if value is None else f"{wanted} with value {value!r}"
        which += f" in block {block!r}" if block is not None else ""
        raise LookupError(f"{len(matches)} elements match {which}; there are {known}")
    return matches[0]


def options(element: Element) -> list[dict[str, Any]]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found.extend(group.get("options") or [])
    return found


def option(element: Element, value: str, suggested: Sequence[Option] = ()) -> Option:
    """The option with `value`: one of the element's (groups included), its initial ones, or
    (an external select) one the app `suggested` when asked. An external select's value
    that was never suggested gets its value as its text, as if a search had found it."""
    initial: list[Option] = [element["initial_option"]] if element.get("initial_option") else []
    initial += list(element.get("initial_options") or [])
    external = element.get("type") in EXTERNAL
    for candidate in [*options(element), *initial, *(suggested if external else ())]:
        if candidate.get("value") == value:
            return candidate
    if external:
        return {"text": {"type": "plain_text", "text": value}, "value": value}
    known = [o.get("value") for o in options(element)]
    raise LookupError(f"no option {value!r} in {action_id(element)}; options are {known}")


def picked(kind: str, value: str) -> str:
    """A date, time or date-time as Slack reports it, checked (ValueError if malformed)."""
    pattern = PICK_FORMATS.get(kind)
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ValueError(f"{kind} wants {PICK_SHAPES[kind]}, not {value!r}")
    if kind == "datepicker":
        date.fromisoformat(value)
    return value


def state_value(
    element: Element, chosen: str | list[str] | None, suggested: Sequence[Option] = ()
) -> dict[str, Any]:
    """The `state.values[block_id][action_id]` entry once the user chose `chosen`."""
    kind = str(element.get("type"))
    picks = [] if chosen is None else [chosen] if isinstance(chosen, str) else list(chosen)
    entry: dict[str, Any] = {"type": kind}
    if kind in ONE_OPTION:
        entry["selected_option"] = option(element, picks[0], suggested) if picks else None
    elif kind in SOME_OPTIONS:
        entry["selected_options"] = [option(element, pick, suggested) for pick in picks]
    elif kind in ONE_PICK:
        entry[ONE_PICK[kind][0]] = picked(kind, picks[0]) if picks else None
    elif kind in SOME_PICKS:
        entry[SOME_PICKS[kind][0]] = picks
    else:
        entry["value"] = picks[0] if picks else None
    return entry


def initial_value(element: Element) -> dict[str, Any]:
    """The state entry of an untouched element (its initial value, if any)."""
    kind = str(element.get("type"))
    entry: dict[str, Any] = {"type": kind}
    if kind in ONE_OPTION:
        entry["selected_option"] = element.get("initial_option")
    elif kind in SOME_OPTIONS:
        entry["selected_options"] = list(element.get("initial_options") or [])
    elif kind in ONE_PICK:
        field, initial = ONE_PICK[kind]
        entry[field] = element.get(initial)
    elif kind in SOME_PICKS:
        field, initial = SOME_PICKS[kind]
        entry[field] = list(element.get(initial) or [])
    else:
        entry["value"] = element.get("initial_value")
    return entry


def untouched_value(element: Element) -> dict[str, Any]:
    """A message element's state entry before the user touched it. Slack does not report a
    select's `initial_option` there (python-slack-sdk#1350): the choice reads as empty."""
    return state_value(element, None)


def current(blocks: list[Block], kept: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The kept choices of elements the blocks still have: once a view is updated with other
    block ids, Slack forgets what was chosen in the old ones."""
    present = {(bid, aid) for bid, aid, _, _ in elements(blocks)}
    found: dict[str, dict[str, Any]] = {}
    for bid, entries in kept.items():
        for aid, entry in entries.items():
            if (bid, aid) in present:
                found.setdefault(bid, {})[aid] = entry
    return found


def message_state(
    blocks: list[Block], kept: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """A message's `state.values` with a click: every stateful element, as chosen so far."""
    state: dict[str, dict[str, Any]] = {}
    for bid, aid, _, element in elements(blocks):
        if keeps_state(element):
            state.setdefault(bid, {})[aid] = untouched_value(element)
    for bid, entries in current(blocks, kept).items():
        state.setdefault(bid, {}).update(entries)
    return state


def action(
    bid: str,
    aid: str,
    element: Element,
    chosen: str | list[str] | None,
    action_ts: str,
    suggested: Sequence[Option] = (),
) -> dict[str, Any]:
    """The `actions[0]` Slack sends for a click on a button or a choice in a select."""
    common = {"action_id": aid, "block_id": bid, "action_ts": action_ts}
    if element.get("type") != "button":
        return {**state_value(element, chosen, suggested), **common}
    clicked = {"type": "button", **common, "text": element.get("text")}
    for key in ("value", "style", "url"):
        if key in element:
            clicked[key] = element[key]
    return clicked


def keeps_state(element: Element) -> bool:
    return element.get("type") not in ("button", "overflow")


def dispatches(block: Block, element: Element) -> bool:
    """Whether Slack sends block_actions when this element changes (inputs only if asked)."""
    if block.get("type") != "input":
        return True
    return bool(block.get("dispatch_action"))


def submission_state(
    blocks: list[Block],
    kept: dict[str, dict[str, Any]],
    values: dict[str, dict[str, Any]],
    suggested: Suggested | None = None,
) -> dict[str, dict[str, Any]]:
    """A modal's `state.values` on submit: every input's initial value, then the choices
    kept from earlier selections, then `values[block_id][action_id]` (a value, a list of
    values, or a ready state entry with "type"); an external select's value is the option
    the app `suggested` for it, text and all."""
    state: dict[str, dict[str, Any]] = {}
    for bid, aid, block, element in elements(blocks):
        if block.get("type") == "input":
            state.setdefault(bid, {})[aid] = initial_value(element)
    for bid, entries in current(blocks, kept).items():
        state.setdefault(bid, {}).update(entries)
    by_id = {(bid, aid): element for bid, aid, _, element in elements(blocks)}
    for bid, chosen in values.items():
        for aid, value in chosen.items():
            if (bid, aid) not in by_id:
                raise LookupError(f"no element {bid}/{aid} in the view; there are {list(by_id)}")
            ready = value if isinstance(value, dict) and "type" in value else None
            known = (suggested or {}).get((bid, aid), ())
            state.setdefault(bid, {})[aid] = ready or state_value(by_id[bid, aid], value, known)
    return state
