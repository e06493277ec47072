"""Small pieces every Slack message is built from, with Slack's limits applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from handlers.slack import ids

T = TypeVar("T")

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_TEXT = 2000
MAX_BUTTON_TEXT = 75


class Customer(Protocol):
    """Who a message is about: a `CustomerView` or just a `CustomerCandidate`."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Message:
    """A message as `respond`, `chat.postMessage` or `chat.update` take it."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.blocks) > MAX_BLOCKS:
            raise ValueError(f"{len(self.blocks)} blocks: Slack takes at most {MAX_BLOCKS}")

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def message(text: str, blocks: Sequence[Block]) -> Message:
    """`text` is the plain-text fallback (notifications, screen readers): Slack parses it as
    mrkdwn too, so it is escaped here, once, for every message built with this. Blocks are
    validated by slack_sdk's models as they turn into JSON."""
    return Message(text=escape(text), blocks=[block.to_dict() for block in blocks])


def escape(text: str) -> str:
    """Text from customers or Xero, made inert in Slack's mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def counted(count: int, noun: str) -> str:
    """ "1 store", "2 stores": every count the bot writes agrees with its noun."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def possessive(name: str) -> str:
    """ "Acme's", but "Acme Bikes'"."""
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT)), accessory=accessory
    )


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, MAX_CONTEXT_TEXT))])


def button(
    label: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(label, MAX_BUTTON_TEXT)),
        action_id=action_id,
        value=value,
        style=style,
        confirm=confirm,
    )


def when(moment: datetime) -> str:
    """A time every reader sees in their own time zone."""
    seconds = int(moment.timestamp())
    fallback = moment.strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{seconds}^{{date_short_pretty}} {{time}}|{fallback}>"


def listing(items: Sequence[str], *, limit: int) -> str:
    """`items` joined, cut to `limit` characters with a count of what was left out."""
    shown: list[str] = []
    for position, item in enumerate(items):
        rest = len(items) - position
        candidate = ", ".join([*shown, item])
        if len(candidate) + len(f" and {rest} more") > limit and rest > 1:
            return f"{', '.join(shown)} and {rest} more"
        shown.append(item)
    return ", ".join(shown)


def person(actor: str, *, start: bool = False) -> str:
    """An audit actor in a sentence: a Slack mention, the customer, the bot, or a name."""
    if actor in ("customer", "system"):
        name = "the customer" if actor == "customer" else "the bot"
        return name.capitalize() if start else name
    return mention(actor)


def mention(actor: str) -> str:
    """An audit actor ("slack:U123") as a Slack mention; anyone else by name."""
    return f"<@{actor.removeprefix('slack:')}>" if actor.startswith("slack:") else escape(actor)


def page_of(items: Sequence[T], *, size: int, page: int) -> tuple[Sequence[T], int, int]:
    """The items on `page` (clamped to the pages there are), that page, and the page count."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], page, pages


def page_buttons(action_id: str, customer_id: int, *, page: int, pages: int) -> list[ButtonElement]:
    """Previous and Next, where there is somewhere to go."""
    buttons = []
    if page > 0:
        buttons.append(button("Previous", action_id, ids.encode(c=customer_id, p=page - 1)))
    if page < pages - 1:
        buttons.append(button("Next", action_id, ids.encode(c=customer_id, p=page + 1)))
    return buttons
