"""The agent's private link message: post it in the channel, or revoke it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.common.vault import VaultError
from bot.domain import links
from bot.domain.errors import InvalidRequest
from handlers.slack import ids
from handlers.slack.admin import admin_only
from handlers.slack.blocks.common import Message, escape, mention
from handlers.slack.blocks.links import choice_closed, link_for_customer, link_record, link_state
from handlers.slack.links import send_link
from handlers.slack.notifier import replace_choice
from handlers.slack.runtime import Turn, acknowledged
from handlers.slack.threads import Thread


def register(app: AsyncApp) -> None:
    app.action(ids.POST_LINK)(acknowledged(post_link_in_channel))
    app.action(ids.REVOKE_LINK, middleware=[admin_only("revoke consent links", revoking)])(
        acknowledged(revoke_link)
    )
    app.action(ids.REPLACE_LINK)(acknowledged(replace_open_link))
    app.action(ids.KEEP_LINK)(acknowledged(keep_open_link))


async def replace_open_link(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    """The agent confirmed that a new link may withdraw the open ones it named."""
    value = ids.decode(action.get("value"))
    codes, replacing = value.get("s"), value.get("x")
    if not (codes is None or _strings(codes)) or not _ints(replacing):
        raise InvalidRequest("That button is out of date. Run the command again.")
    await send_link(
        turn, customer_id=ids.int_field(value, "c"), store_codes=codes, replacing=replacing
    )


async def keep_open_link(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    kept = str(ids.decode(action.get("value")).get("x") or "")
    await turn.reply(
        Message(f":ok_hand: Kept link {escape(kept)}; no new link was issued."), replace=True
    )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _ints(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    )


async def post_link_in_channel(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    try:
        fields = ids.decode(turn.runtime.vault.decrypt(action.get("value") or ""))
    except VaultError:
        raise InvalidRequest("That button is out of date. Issue a new link.") from None
    url = fields.get("u")
    if not isinstance(url, str):
        raise InvalidRequest("That button is out of date. Issue a new link.")
    channel = (body.get("channel") or {}).get("id") or turn.channel_id
    current = await links.get(turn.deps, consent_request_id=ids.int_field(fields, "r"))
    if not current.usable:
        await turn.reply(Message(f":lock: {link_state(current)} Issue a new link."), replace=True)
        return
    customer_name = await links.note_shared(
        turn.deps,
        consent_request_id=ids.int_field(fields, "r"),
        channel_id=channel,
        actor=turn.actor,
    )
    await turn.client.chat_postMessage(
        channel=channel,
        unfurl_links=False,
        unfurl_media=False,
        **link_for_customer(url, customer_name).kwargs(),
    )
    await turn.reply(Message(":white_check_mark: Posted the link in this channel."))


def revoking(action: dict[str, Any]) -> str:
    return f"revoke link #{_revoked_request(action)}"


def _revoked_request(action: dict[str, Any]) -> int:
    return ids.int_field(ids.decode(action.get("value")), "r")


async def revoke_link(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    """Admins only (`register`)."""
    request_id = _revoked_request(action)
    current = await links.get(turn.deps, consent_request_id=request_id)
    if not current.usable:
        await turn.reply(Message(f":lock: {link_state(current)} Nothing to revoke."), replace=True)
        return
    consent = await links.revoke(turn.deps, consent_request_id=request_id, actor=turn.actor)
    await turn.reply(Message(f":no_entry_sign: Link #{request_id} is revoked."), replace=True)
    await replace_choice(turn.client, consent, choice_closed(consent))
    if thread := Thread.of(consent.report_to):
        record = link_record(
            consent_request_id=request_id,
            customer_name=consent.customer_name,
            store_codes=tuple(store.code for store in consent.stores),
            issued_by=consent.issued_by,
            state=f"revoked by {mention(turn.actor)}",
        )
        await turn.client.chat_update(channel=thread.channel, ts=thread.ts, **record.kwargs())
