"""Consent links in Slack: the agent's private copy, the channel's record, the progress."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.domain.notify import ConsentEvent, ConsentEventKind
from bot.domain.results import ConsentLink, ConsentView, OpenLink, OrganisationOption, StoreView
from bot.domain.states import ConsentStatus
from handlers.slack import ids

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

MAX_STORE_CHOICES = 40


def link_for_agent(link: ConsentLink, *, sealed_link: str, can_revoke: bool = False) -> Message:
    """Shown only to the agent who asked: the link itself, and what to do with it
    (Revoke only for admins: nobody is offered a button that would refuse them)."""
    buttons = [button("Post in this channel", ids.POST_LINK, sealed_link)]
    if can_revoke:
        buttons.append(revoke_button(link.consent_request_id))
    stores = listing([f"`{escape(code)}`" for code in link.store_codes], limit=1500)
    blocks: list[Block] = [
        section(
            f":link: Consent link #{link.consent_request_id} for *{escape(link.customer_name)}* "
            f"({stores}), usable until {when(link.expires_at)}:\n{link.url}"
        ),
        context(
            "Only you can see this. Send it to the customer, or post it here if this "
            "channel is shared with them."
        ),
        ActionsBlock(elements=buttons),
    ]
    if link.replaced:
        replaced = "; ".join(
            f"#{old.consent_request_id} ({', '.join(old.store_codes)})" for old in link.replaced
        )
        blocks.append(context(f"It replaces the earlier open link {escape(replaced)}."))
    if link.warning:
        blocks.insert(1, section(f":warning: {escape(link.warning)}"))
    return message(f"Consent link for {link.customer_name}: {link.url}", blocks)


def replace_confirmation(
    *, customer_id: int, store_codes: Sequence[str] | None, open_links: Sequence[OpenLink]
) -> Message:
    """Before a new link withdraws one the customer may hold: which, and a way back."""
    described = [
        f"#{old.consent_request_id} ("
        + listing([f"`{escape(code)}`" for code in old.store_codes], limit=300)
        + f"), issued by {mention(old.issued_by)}, usable until {when(old.expires_at)}"
        for old in open_links
    ]
    numbers = ", ".join(f"#{old.consent_request_id}" for old in open_links)
    noun = "link" if len(open_links) == 1 else "links"
    value = ids.encode(
        c=customer_id,
        s=list(store_codes) if store_codes is not None else None,
        x=[old.consent_request_id for old in open_links],
    )
    return message(
        f"Replace open {noun} {numbers}?",
        [
            section(
                f":warning: The customer may already have open {noun} "
                + listing(described, limit=2000)
                + f". A new link withdraws {'it' if len(open_links) == 1 else 'them'}."
            ),
            ActionsBlock(
                elements=[
                    button(f"Replace {noun} {numbers}", ids.REPLACE_LINK, value, style="danger"),
                    button(f"Keep {numbers}", ids.KEEP_LINK, ids.encode(x=numbers)),
                ]
            ),
        ],
    )


def revoke_button(consent_request_id: int) -> ButtonElement:
    return button(
        "Revoke link",
        ids.REVOKE_LINK,
        ids.encode(r=consent_request_id),
        style="danger",
        confirm=ConfirmObject(
            title=PlainTextObject(text="Revoke this link?"),
            text=MarkdownTextObject(text="The customer will not be able to use it."),
            confirm=PlainTextObject(text="Revoke"),
            deny=PlainTextObject(text="Keep it"),
        ),
    )


def link_for_customer(link_url: str, customer_name: str) -> Message:
    """Posted in a channel shared with the customer; Slack is told not to unfurl it."""
    return message(
        f"Connect {customer_name} to Xero: {link_url}",
        [
            section(
                f"*{escape(customer_name)}*: to connect your Cloud POS stores to Xero, open "
                f"<{link_url}|this link> and follow the steps. It is for you only."
            )
        ],
    )


def link_record(
    *,
    consent_request_id: int,
    customer_name: str,
    store_codes: tuple[str, ...],
    issued_by: str,
    state: str,
) -> Message:
    """The channel's record of a link: its thread collects the customer's progress."""
    stores = listing([f"`{escape(code)}`" for code in store_codes], limit=1500)
    return message(
        f"Consent link #{consent_request_id} for {customer_name}",
        [
            section(
                f":link: Consent link #{consent_request_id} for *{escape(customer_name)}* "
                f"({stores}), issued by {mention(issued_by)}."
            ),
            context(f"*State:* {state}"),
        ],
    )


def progress_state(event: ConsentEvent) -> str:
    """One line for the link's record, after `event`."""
    return {
        ConsentEventKind.AUTHORISED: "the customer consented at Xero; waiting for the "
        "organisation choice",
        ConsentEventKind.COMPLETED: "completed",
        ConsentEventKind.CANCELLED: "the customer cancelled at Xero; the link still works",
        ConsentEventKind.FAILED: "Xero failed; the link still works",
    }[event.kind]


def progress_message(event: ConsentEvent) -> Message:
    """The reply in the link's thread when the customer moves on."""
    consent = event.consent
    if event.kind == ConsentEventKind.COMPLETED:
        lines = [
            f"`{escape(s.code)}` → {escape(s.organisation_name)}"
            for s in consent.stores
            if s.organisation_name
        ]
        blocks: list[Block] = [
            section(":white_check_mark: *Consent completed.* " + listing(lines, limit=2800))
        ]
        if event.detail:
            blocks.append(
                context(f":warning: {escape(clip(event.detail, 500))}: send a new link for them.")
            )
        return message(f"Consent completed for {consent.customer_name}", blocks)
    if event.kind == ConsentEventKind.CANCELLED:
        return message(
            "The customer cancelled at Xero",
            [section(":x: The customer pressed *Cancel* at Xero. The link still works.")],
        )
    if event.kind == ConsentEventKind.FAILED:
        return message(
            "Xero failed while the customer was connecting",
            [
                section(
                    f":warning: Xero failed while the customer was connecting: "
                    f"{escape(clip(event.detail, 500))} The link still works."
                )
            ],
        )
    return organisation_choice(consent)


def link_state(consent: ConsentView) -> str:
    """Where a link that can no longer be used stands, for a button pressed on a message
    that has moved on: completed, withdrawn (revoked or replaced), or expired."""
    by = f" by {person(consent.finished_by)}" if consent.finished_by else ""
    at = f" {when(consent.finished_at)}" if consent.finished_at else ""
    number = f"Link #{consent.consent_request_id}"
    if consent.status == ConsentStatus.COMPLETED:
        return f"{number} was already completed{by}{at}."
    if consent.status == ConsentStatus.REVOKED:
        return f"{number} was withdrawn{by}{at}."
    return f"{number} expired {when(consent.expires_at)}."


def choice_closed(consent: ConsentView) -> Message:
    """What replaces the organisation choice once the link has moved on."""
    lines = [
        f"`{escape(s.code)}` → {escape(s.organisation_name)}"
        for s in consent.stores
        if s.organisation_name
    ]
    outcome = listing(lines, limit=2500) or "no store was connected through it"
    return message(
        f"Link #{consent.consent_request_id}: organisations chosen",
        [section(f":lock: {link_state(consent)} {outcome}.")],
    )


def _setup_warning(store: StoreView, organisations: Sequence[OrganisationOption]) -> str:
    """A store with a posting set-up keeps it only in the organisation it was made in."""
    if store.setup_tenant_id is None:
        return ""
    home = next((o for o in organisations if o.tenant_id == store.setup_tenant_id), None)
    if home is None:
        return "\n:warning: Its posting set-up is cleared by any organisation chosen here."
    return (
        f"\n:warning: Its posting set-up is kept with {escape(home.tenant_name)}, "
        "cleared by any other organisation."
    )


def organisation_choice(consent: ConsentView) -> Message:
    """After consent: the organisations allowed, and a choice per store an agent can confirm."""
    eligible = [option for option in consent.organisations if option.eligible]
    allowed = listing(
        [
            f"{escape(o.tenant_name)} ({escape(o.plan_label)}"
            + ("" if o.eligible else f" — {escape(o.reason)}")
            + ")"
            for o in consent.organisations
        ],
        limit=1500,
    )
    blocks: list[Block] = [
        section(f":inbox_tray: The customer consented at Xero and allowed: {allowed or 'nothing'}.")
    ]
    if not eligible:
        blocks.append(
            context(
                "None of them can be connected: trial, starter and demo "
                "organisations cannot be integrated. Send a new link."
            )
        )
        return message("The customer consented, but no organisation can be connected", blocks)
    blocks.append(context("They can choose on their page, or you can confirm here."))
    options = [
        Option(
            text=PlainTextObject(text=clip(f"{o.tenant_name} ({o.plan_label})", 75)),
            value=str(o.connection_id),
        )
        for o in eligible[:100]
    ]
    for store in consent.stores[:MAX_STORE_CHOICES]:
        blocks.append(
            SectionBlock(
                block_id=f"{ids.STORE_CHOICE_BLOCK_PREFIX}{store.code}",
                text=MarkdownTextObject(
                    text=f"*{escape(store.name)}* `{escape(store.code)}`"
                    + _setup_warning(store, consent.organisations)
                ),
                accessory=StaticSelectElement(
                    action_id=ids.ORGANISATION_CHOICE,
                    placeholder=PlainTextObject(text="Organisation"),
                    options=options,
                    initial_option=options[0] if len(options) == 1 else None,
                ),
            )
        )
    if len(consent.stores) > MAX_STORE_CHOICES:
        blocks.append(
            context(
                f"{len(consent.stores) - MAX_STORE_CHOICES} more stores: the "
                "customer chooses for those on their page."
            )
        )
    blocks.append(
        ActionsBlock(
            elements=[
                button(
                    "Confirm",
                    ids.CONFIRM_ORGANISATIONS,
                    ids.encode(r=consent.consent_request_id),
                    style="primary",
                )
            ]
        )
    )
    return message(f"{consent.customer_name} consented: choose organisations", blocks)
