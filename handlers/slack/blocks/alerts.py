"""The alert about a customer's broken stores, as posted in the alerts channel and updated
in place; and the reminder about a link its customer has not used."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.domain.notify import Fix, Reminder, ReminderKind, StoresAlert
from bot.domain.states import StoreStatus
from handlers.slack import ids

from .attention import customer_stores
from .common import (
    Message,
    button,
    clip,
    context,
    escape,
    listing,
    mention,
    message,
    person,
    section,
    when,
)
from .links import revoke_button

NAME = 200


def alert_message(alert: StoresAlert) -> Message:
    """Open: the stores, with Send reconnect link (when a store needs it) and Summary.
    Resolved: what fixed it, and since when the alert was open."""
    name = escape(clip(alert.customer_name, NAME))
    summary = button("Summary", ids.ALERT_SUMMARY, ids.encode(c=alert.customer_id))
    attention = alert.attention
    if attention is None:
        text = f":white_check_mark: *Resolved:* every store of *{name}* is healthy again."
        return message(
            f"Resolved: every store of {alert.customer_name} is healthy again",
            [
                section(text),
                context(
                    f"Raised {when(alert.opened_at)}. {fix_line(alert.fixed_by)}"
                    if alert.fixed_by
                    else f"Raised {when(alert.opened_at)}."
                ),
                ActionsBlock(elements=[summary]),
            ],
        )
    buttons = []
    if any(store.status == StoreStatus.NEEDS_RECONNECT for store in attention.stores):
        buttons.append(
            button(
                "Send reconnect link",
                ids.ALERT_RECONNECT,
                ids.encode(c=alert.customer_id),
                style="primary",
            )
        )
    buttons.append(summary)
    noun = "store needs" if attention.total == 1 else "stores need"
    blocks: list[Block] = [
        section(f":red_circle: {customer_stores(attention)}"),
        context(
            f"Raised {when(alert.opened_at)}. This message is kept up to date as stores "
            "break or recover; the link goes to the stores that need reconnecting."
        ),
        ActionsBlock(elements=buttons),
    ]
    return message(f"{alert.customer_name}: {attention.total} {noun} attention", blocks)


def fix_line(fix: Fix | None) -> str:
    """Who fixed it, in a sentence, from the audit log."""
    if fix is None:
        return "Every store is healthy again."
    at = when(fix.at)
    if fix.action == "consent.completed":
        link = f"link #{fix.consent_request_id}" if fix.consent_request_id else "a consent link"
        sent = f", sent by {mention(fix.link_issued_by)}" if fix.link_issued_by else ""
        if fix.actor == "customer":
            return f"The customer reconnected through {link}{sent}, {at}."
        return f"{person(fix.actor, start=True)} confirmed the organisations of {link}{sent}, {at}."
    if fix.action == "organisation.disconnected":
        return f"{person(fix.actor, start=True)} disconnected the organisation, {at}."
    if fix.action == "connection.back":
        return f"The organisation was connected again at Xero, {at}."
    if fix.action == "plan.cleared":
        return f"The organisation moved to a Xero plan that can be integrated, {at}."
    return f"{person(fix.actor, start=True)} refreshed the stores from Cloud POS, {at}."


def reminder_message(reminder: Reminder) -> Message:
    """In the link's thread, to whoever issued it: a fresh link, or revoke this one."""
    link = reminder.link
    codes = listing([f"`{escape(clip(code, 100))}`" for code in link.store_codes], limit=1000)
    who = mention(link.issued_by)
    customer = escape(clip(link.customer_name, NAME))
    if reminder.kind == ReminderKind.EXPIRING:
        left = _hours(link.expires_at - reminder.now)
        text = (
            f":alarm_clock: {who} link #{link.consent_request_id} for *{customer}* ({codes}) "
            f"expires in {left} ({when(link.expires_at)}) and the customer has not finished."
        )
    else:
        waited = _hours(reminder.now - link.issued_at) if link.issued_at else "a while"
        text = (
            f":hourglass_flowing_sand: {who} the customer has not finished with link "
            f"#{link.consent_request_id} for *{customer}* ({codes}) after {waited}. It can "
            f"be used until {when(link.expires_at)}."
        )
    fresh = button(
        "Send a fresh link",
        ids.FRESH_LINK,
        ids.encode(r=link.consent_request_id),
        style="primary",
    )
    return message(
        f"Link #{link.consent_request_id} for {link.customer_name} is still waiting",
        [
            section(text),
            context("A fresh link replaces this one (only you see it). Revoking is for admins."),
            ActionsBlock(elements=[fresh, revoke_button(link.consent_request_id)]),
        ],
    )


def _hours(delta: timedelta) -> str:
    hours = max(int(delta.total_seconds() // 3600), 0)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours} hour" + ("" if hours == 1 else "s")
    return f"{hours // 24} days"
