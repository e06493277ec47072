"""`/xero links`: the links customers can still use, oldest first, each with its age."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from bot.domain.results import OpenLink

from .common import Message, context, counted, escape, listing, mention, message, section, when
from .links import revoke_button


def waiting_links(
    links: Sequence[OpenLink], *, total: int, customer_name: str | None, can_revoke: bool
) -> Message:
    """Who issued each link, when, for which stores and until when; Revoke for admins."""
    whose = f" for {customer_name}" if customer_name else ""
    if not links:
        text = f"No open consent links{whose}."
        return message(text, [section(f":white_check_mark: {escape(text)}")])
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Open consent links{whose}"[:150])),
        context(
            f"{counted(total, 'link')} waiting for customers, oldest first"
            + (f"; the oldest {len(links)} are shown." if total > len(links) else ".")
        ),
    ]
    for link in links:
        codes = listing([f"`{escape(code)}`" for code in link.store_codes], limit=400)
        issued = f" {when(link.issued_at)}" if link.issued_at else ""
        blocks.append(
            section(
                f"*Link #{link.consent_request_id}* · {escape(link.customer_name)} · {codes}\n"
                f"Issued by {mention(link.issued_by)}{issued} · expires {when(link.expires_at)}",
                revoke_button(link.consent_request_id) if can_revoke else None,
            )
        )
    return message(f"{counted(total, 'open consent link')}{whose}", blocks)
