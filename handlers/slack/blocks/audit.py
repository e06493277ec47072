"""The audit trail as sentences: who did what to which store, link or organisation.

Audit details are stored as the domain wrote them (plain values, some from Xero or Cloud
POS); every value is escaped here, where it becomes mrkdwn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from slack_sdk.models.blocks import HeaderBlock, PlainTextObject

from bot.domain.results import AuditEntry

from .common import Message, clip, counted, escape, listing, message, person, section, when

MAX_LINE = 400


def audit_message(customer_name: str, entries: Sequence[AuditEntry]) -> Message:
    lines = [f"{when(entry.occurred_at)} · {clip(sentence(entry), MAX_LINE)}" for entry in entries]
    return message(
        f"Audit trail for {customer_name}",
        [
            HeaderBlock(text=PlainTextObject(text=clip(f"Audit: {customer_name}", 150))),
            section("\n".join(lines) or "Nothing recorded yet."),
        ],
    )


def sentence(entry: AuditEntry) -> str:
    """One audit event in words; an action this module does not know still reads plainly."""
    render = SENTENCES.get(entry.action)
    if render is None:
        action = escape(entry.action.replace(".", " ").replace("_", " "))
        details = f" ({_plain_details(entry.detail)})" if entry.detail else ""
        return f"{person(entry.actor, start=True)}: {action}{details}"
    return render(_Facts(entry))


class _Facts:
    """Typed reads of an entry's details: whatever was stored, never an exception."""

    def __init__(self, entry: AuditEntry) -> None:
        self.entry = entry
        self.who = person(entry.actor, start=True)

    def text(self, key: str) -> str:
        value = self.entry.detail.get(key)
        return escape(str(value)) if value not in (None, "") else ""

    def link(self) -> str:
        return f"link #{self.text('consent_request_id') or '?'}"

    def codes(self, key: str) -> str:
        value = self.entry.detail.get(key)
        items = value if isinstance(value, list) else []
        return listing([f"`{escape(str(item))}`" for item in items], limit=200) or "none"

    def store(self) -> str:
        code = self.entry.store_code
        return f"store `{escape(code)}`" if code else "a store"

    def when(self, key: str) -> str:
        value = self.entry.detail.get(key)
        try:
            return when(datetime.fromisoformat(str(value)))
        except ValueError:
            return "?"

    def choices(self) -> str:
        value = self.entry.detail.get("choices")
        pairs = value.items() if isinstance(value, dict) else ()
        return listing(
            [f"`{escape(str(code))}` → {escape(str(name))}" for code, name in pairs], limit=250
        )


def _registered(f: _Facts) -> str:
    stores = f.entry.detail.get("stores")
    count = counted(stores, "store") if isinstance(stores, int) else "its stores"
    return (
        f"{f.who} registered the customer: Cloud POS group `{f.text('cloudpos_group')}`, "
        f"{f.text('licence')} licence, {count}."
    )


def _refreshed(f: _Facts) -> str:
    return (
        f"{f.who} refreshed the stores from Cloud POS: added {f.codes('added')}; "
        f"renamed {f.codes('renamed')}; deactivated {f.codes('deactivated')}."
    )


def _completed(f: _Facts) -> str:
    left = f.entry.detail.get("left_unconnected")
    unconnected = f"; left unconnected: {f.codes('left_unconnected')}" if left else ""
    return f"{f.who} chose organisations for {f.link()}: {f.choices() or 'none'}{unconnected}."


def _disconnected(f: _Facts) -> str:
    at_xero = (
        "removed at Xero"
        if f.entry.detail.get("removed_at_xero")
        else "Xero had already removed it or other customers still use it"
    )
    return f"{f.who} disconnected {f.text('organisation')} from {f.codes('stores')} ({at_xero})."


SETUP_NAMES = {
    "sales_account_id": "sales account",
    "tax_type": "tax rate",
    "payments": "payment accounts",
    "rounding_account_id": "rounding account",
    "gift_card_account_id": "gift card account",
    "tracking_option_id": "tracking",
    "contact_id": "contact",
    "invoice_status": "invoice status",
    "start_date": "start date",
}


def _setup_changed(f: _Facts) -> str:
    before, after = f.entry.detail.get("before"), f.entry.detail.get("after")
    if not isinstance(after, dict):
        return f"{f.who} changed the posting set-up of {f.store()}."
    if not isinstance(before, dict):
        return f"{f.who} set up the posting of {f.store()}."
    changed = [name for key, name in SETUP_NAMES.items() if before.get(key) != after.get(key)]
    return f"{f.who} changed the posting set-up of {f.store()}: {listing(changed, limit=200)}."


SENTENCES: dict[str, Callable[[_Facts], str]] = {
    "customer.registered": _registered,
    "stores.refreshed": _refreshed,
    "consent.issued": lambda f: (
        f"{f.who} issued {f.link()} for {f.codes('stores')}, usable until {f.when('expires_at')}."
    ),
    "consent.revoked": lambda f: f"{f.who} revoked {f.link()}.",
    "consent.replaced": lambda f: f"{f.who} withdrew {f.link()}: a newer link replaced it.",
    "consent.link_shared": lambda f: f"{f.who} posted {f.link()} in <#{f.text('channel')}>.",
    "consent.started": lambda f: f"{f.who} opened {f.link()} and went on to Xero.",
    "consent.authorised": lambda f: (
        f"{f.text('xero_user') or 'A Xero user'} consented at Xero through {f.link()}, "
        f"allowing {f.codes('organisations')}."
    ),
    "consent.cancelled": lambda f: f"{f.who} cancelled at Xero ({f.link()} still works).",
    "consent.failed": lambda f: (
        f"Xero failed during {f.link()}: {f.text('reason') or 'no reason given'}."
    ),
    "consent.completed": _completed,
    "store.linked": lambda f: f"{f.who} connected {f.store()} to {f.text('organisation')}.",
    "store.unlinked": lambda f: (
        f"{f.who} disconnected {f.store()} from {f.text('organisation')} "
        f"({f.text('reason') or 'no reason given'})."
    ),
    "organisation.disconnected": _disconnected,
    "organisation.disconnect_failed": lambda f: (
        f"{f.who} tried to disconnect {f.text('organisation')}, but Xero failed: "
        f"{f.text('error') or 'no detail'}."
    ),
    "grant.needs_reconnect": lambda f: (
        f"Xero stopped accepting {f.text('xero_user') or 'a Xero user'}'s authorisation: "
        f"{f.codes('stores')} need a new consent link."
    ),
    "grant.revoke_failed": lambda f: (
        f"Revoking the Xero access of {f.text('xero_user') or 'a Xero user'} failed: "
        f"{f.text('error') or 'no detail'}."
    ),
    "access.refused": lambda f: f"{f.who} was refused: {f.text('attempted')}.",
    "setup.changed": _setup_changed,
    "setup.cleared": lambda f: (
        f"The posting set-up of {f.store()} was cleared: {f.text('reason') or 'no reason given'}."
    ),
    "store.ready": lambda f: (
        f"{f.who} marked {f.store()} ready for sync with {f.text('organisation')}."
    ),
    "store.not_ready": lambda f: (
        f"{_sentence_start(f.store())} stopped being ready for sync: "
        f"{f.text('reason') or 'no reason given'}."
    ),
    "sync.problem": lambda f: (
        f"The sync service ({escape(f.entry.actor.removeprefix('api:'))}) reported that Xero "
        f"refused {f.store()} ({f.text('kind') or 'other'}): "
        f"{clip(f.text('problem'), 200) or 'no detail'}."
    ),
    "webhook.abandoned": lambda f: (
        f"The bot gave up pushing event {f.text('event') or '?'} ({f.text('type')}) of "
        f"{f.store()} to the sync webhook after {f.text('attempts') or '?'} tries: "
        f"{f.text('error') or 'no detail'}."
    ),
}


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plain_details(detail: dict[str, object]) -> str:
    parts = []
    for key, value in detail.items():
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, list):
            shown = ", ".join(map(str, value))
        else:
            shown = str(value)
        parts.append(f"{key.replace('_', ' ')}: {shown}")
    return escape(clip("; ".join(parts), 300))
