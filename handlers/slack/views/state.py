"""Reading what an agent typed or chose in a modal or a message: `state.values`, typed.

Slack sends `state.values[block_id][action_id]` with every submission and every click in a
message that has inputs. The payload is signed, but it is still input: a value in a shape
other than the element's is refused with `InvalidRequest`, never half-read.

A modal reports every input it has, so a text input missing from it means the form is not
the one this bot sent. A message only reports the selects the agent touched, so an absent
select reads as nothing chosen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.domain.errors import InvalidRequest

TEXT = frozenset({"plain_text_input"})
SELECT = frozenset({"static_select", "external_select"})
MULTI_SELECT = frozenset({"multi_static_select", "multi_external_select"})
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
CHECKBOXES = frozenset({"checkboxes"})
RADIO = frozenset({"radio_buttons"})
DATE = frozenset({"datepicker"})


@dataclass(frozen=True)
class ViewState:
    values: Mapping[str, Any]

    @classmethod
    def of(cls, holder: Mapping[str, Any] | None) -> ViewState:
        """The state of a view (`view`) or of a clicked message (the block_actions `body`)."""
        state = (holder or {}).get("state")
        if state is None:
            return cls({})
        values = state.get("values") if isinstance(state, Mapping) else None
        if not isinstance(values, Mapping):
            raise InvalidRequest(_stale("the form"))
        return cls(values)

    def text(
        self, block_id: str, action_id: str, *, max_length: int, label: str = "that field"
    ) -> str:
        """A plain text input's value ("" when left empty), at most `max_length` long.

        Too long is the agent's to fix, so that error names the block (`field`): a modal
        can show it on the input."""
        entry = self._entry(block_id, action_id, TEXT, label, required=True)
        assert entry is not None
        value = entry.get("value")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise InvalidRequest(_stale(label))
        if len(value) > max_length:
            raise InvalidRequest(f"Keep {label} under {max_length} characters.", field=block_id)
        return value

    def selected(self, block_id: str, action_id: str, *, label: str = "that choice") -> str | None:
        """The value of the option chosen in a select, or None if none is."""
        entry = self._entry(block_id, action_id, SELECT, label, required=False)
        if entry is None or entry.get("selected_option") is None:
            return None
        return _option_value(entry["selected_option"], label)

    def radio(self, block_id: str, action_id: str, *, label: str = "that choice") -> str | None:
        """The value of the chosen radio button, or None if none is."""
        entry = self._entry(block_id, action_id, RADIO, label, required=False)
        if entry is None or entry.get("selected_option") is None:
            return None
        return _option_value(entry["selected_option"], label)

    def day(self, block_id: str, action_id: str, *, label: str = "that date") -> date | None:
        """The date picked (Slack sends YYYY-MM-DD), or None if none is."""
        entry = self._entry(block_id, action_id, DATE, label, required=False)
        value = entry.get("selected_date") if entry is not None else None
        if value is None:
            return None
        if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
            raise InvalidRequest(_stale(label))
        try:
            return date.fromisoformat(value)
        except ValueError:
            problem = f"Pick {label} again: {value} is not a day."
            raise InvalidRequest(problem, field=block_id) from None

    def multi_selected(
        self, block_id: str, action_id: str, *, label: str = "that choice"
    ) -> list[str]:
        """The values of the options chosen in a multi-select, in Slack's order."""
        return self._options(block_id, action_id, MULTI_SELECT, label)

    def checked(self, block_id: str, action_id: str, *, label: str = "that choice") -> list[str]:
        """The values of the ticked checkboxes, in Slack's order."""
        return self._options(block_id, action_id, CHECKBOXES, label)

    def _options(
        self, block_id: str, action_id: str, kinds: frozenset[str], label: str
    ) -> list[str]:
        entry = self._entry(block_id, action_id, kinds, label, required=False)
        if entry is None or entry.get("selected_options") is None:
            return []
        options = entry["selected_options"]
        if not isinstance(options, list):
            raise InvalidRequest(_stale(label))
        return [_option_value(option, label) for option in options]

    def _entry(
        self,
        block_id: str,
        action_id: str,
        kinds: frozenset[str],
        label: str,
        *,
        required: bool,
    ) -> Mapping[str, Any] | None:
        block = self.values.get(block_id)
        if block is None and not required:
            return None
        if not isinstance(block, Mapping):
            raise InvalidRequest(_stale(label))
        entry = block.get(action_id)
        if entry is None and not required:
            return None
        if not isinstance(entry, Mapping) or entry.get("type") not in kinds:
            raise InvalidRequest(_stale(label))
        return entry


def _option_value(option: object, label: str) -> str:
    value = option.get("value") if isinstance(option, Mapping) else None
    if not isinstance(value, str):
        raise InvalidRequest(_stale(label))
    return value


def _stale(label: str) -> str:
    return (
        f"I could not read {label} in what Slack sent: the form or message is out of date. "
        "Run the command again."
    )
