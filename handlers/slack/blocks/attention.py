"""`/xero attention` and the App Home: what needs the helpdesk now, within Block Kit's limits.

One builder serves both: a message takes at most 50 blocks, a Home view 100. Each kind of
trouble is one section (at most 3000 characters) except the broken stores, which get a
section per customer; whatever does not fit is counted ("and 3 more").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from bot.domain.attention import Attention, Capacity, FlaggedPlan
from bot.domain.jobs import FAILED
from bot.domain.results import CustomerAttention, JobRunView, OpenLink
from bot.domain.sync_events import WebhookState

from .common import (
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    Message,
    clip,
    context,
    counted,
    escape,
    listing,
    mention,
    message,
    section,
    when,
)

MAX_HOME_BLOCKS = 100
LINE = 900
"""The longest a name or reason gets in one line, before escaping."""
ALL_GOOD = "All good: nothing needs attention."

OUTSIDER_HOME = (
    "This is the helpdesk's Xero bot: it connects customers' Cloud POS stores to their Xero "
    "organisations. It is for the helpdesk team; if you need it, ask a helpdesk admin to add you."
)


def attention_message(found: Attention) -> Message:
    """The overview as one message (at most 50 blocks)."""
    head = [
        HeaderBlock(text=PlainTextObject(text="Needs attention")),
        context(f"As of {when(found.as_of)}"),
    ]
    return message(summary(found), [*head, *_body(found, budget=MAX_BLOCKS - len(head))])


def home_view(found: Attention) -> dict[str, Any]:
    """The overview as the App Home of a helpdesk user (at most 100 blocks)."""
    head = [
        HeaderBlock(text=PlainTextObject(text="What needs attention")),
        context(
            f"As of {when(found.as_of)}. Open this tab again to refresh it; "
            "`/xero attention` shows the same anywhere."
        ),
    ]
    blocks = [*head, *_body(found, budget=MAX_HOME_BLOCKS - len(head))]
    return {"type": "home", "blocks": [block.to_dict() for block in blocks]}


def outsider_home_view() -> dict[str, Any]:
    """The App Home of anyone outside the helpdesk: what the bot is and whom to ask."""
    return {"type": "home", "blocks": [section(OUTSIDER_HOME).to_dict()]}


def summary(found: Attention) -> str:
    """One line of counts: the notification text."""
    if found.all_good:
        return ALL_GOOD
    parts = []
    if found.stores_total:
        parts.append(_agree(found.stores_total, "store", "needs", "need") + " attention")
    if found.expiring_total:
        parts.append(_agree(found.expiring_total, "link", "expires", "expire") + " within a day")
    if found.plans_total:
        parts.append(f"{counted(found.plans_total, 'organisation')} flagged for its plan")
    if found.capacity.near_limit:
        parts.append("Xero connections near the limit")
    if failed := sum(run.outcome == FAILED for run in found.jobs):
        parts.append(_agree(failed, "job", "failed", "failed") + " last time")
    if found.webhook is not None:
        parts.append("Sync webhook failing")
    return ", ".join(parts)


def _body(found: Attention, *, budget: int) -> list[Block]:
    """Every section but the stores first, then as many customers as the rest allows."""
    rest: list[Block] = []
    if found.all_good:
        rest.append(
            section(
                f":white_check_mark: *{ALL_GOOD}* No store needs reconnecting or carries a "
                "warning, no link expires within a day, no organisation is flagged for its "
                "plan, the app is well within its Xero connection limit and no job failed."
            )
        )
    if found.waiting_total:
        rest.append(_waiting(found))
    if found.expiring_total:
        rest.append(_expiring(found))
    if found.plans_total:
        rest.append(_plans(found.plans, total=found.plans_total))
    if found.webhook is not None:
        rest.append(_webhook(found.webhook))
    rest.append(_capacity(found.capacity))
    rest.append(_jobs(found.jobs))
    if not found.stores_total:
        return rest
    return [*_stores(found, budget=budget - len(rest)), *rest]


def _stores(found: Attention, *, budget: int) -> list[Block]:
    """A title, a section per customer, and a count of the customers left out."""
    title = section(
        f"*:red_circle: {_agree(found.stores_total, 'store', 'needs', 'need')} attention* "
        f"({counted(found.customers_total, 'customer')})"
    )
    room = budget - 1
    customers = found.customers
    if len(customers) < found.customers_total or len(customers) > room:
        room -= 1  # for the count of what is left out
    shown = customers[: max(room, 0)]
    blocks: list[Block] = [title, *(_customer(customer) for customer in shown)]
    more_customers = found.customers_total - len(shown)
    if more_customers:
        more_stores = found.stores_total - sum(customer.total for customer in shown)
        blocks.append(
            context(
                f"…and {more_customers} more {_noun(more_customers, 'customer')} with "
                f"{counted(more_stores, 'store')} that need attention."
            )
        )
    return blocks


def _customer(customer: CustomerAttention) -> Block:
    return section(customer_stores(customer))


def customer_stores(customer: CustomerAttention) -> str:
    """A customer's broken stores, a line each with organisation, reason and since when,
    within one section's 3000 characters."""
    lines = [
        _store_line(store.code, store.name, store.organisation_name)
        + f" — {escape(clip(store.reason, LINE))}"
        + (f" · since {when(store.since)}" if store.since else "")
        for store in customer.stores
    ]
    title = f"*{escape(clip(customer.customer_name, LINE))}* · {counted(customer.total, 'store')}"
    hidden = customer.total - len(customer.stores)
    return _within(title, lines, hidden=hidden, noun="store")


def _store_line(code: str, name: str, organisation: str | None) -> str:
    where = f" · {escape(clip(organisation, LINE))}" if organisation else ""
    return f"• `{escape(clip(code, 100))}` {escape(clip(name, LINE))}{where}"


def _waiting(found: Attention) -> Block:
    title = (
        f"*:hourglass_flowing_sand: {_agree(found.waiting_total, 'link', 'waits', 'wait')} "
        "for the customer*, oldest first"
    )
    lines = [
        f"{_link_line(link)} · issued by {mention(link.issued_by)}"
        + (f" {_age(found.as_of - link.issued_at)} ago" if link.issued_at else "")
        for link in found.waiting
    ]
    return section(
        _within(title, lines, hidden=found.waiting_total - len(found.waiting), noun="link")
    )


def _expiring(found: Attention) -> Block:
    title = (
        f"*:alarm_clock: {_agree(found.expiring_total, 'link', 'expires', 'expire')} "
        "within a day*, soonest first"
    )
    lines = [
        f"{_link_line(link)} · expires {when(link.expires_at)} "
        f"(in {_age(link.expires_at - found.as_of)})"
        for link in found.expiring
    ]
    return section(
        _within(title, lines, hidden=found.expiring_total - len(found.expiring), noun="link")
    )


def _link_line(link: OpenLink) -> str:
    codes = listing([f"`{escape(clip(code, 100))}`" for code in link.store_codes], limit=300)
    return f"• Link #{link.consent_request_id} · {escape(clip(link.customer_name, LINE))} · {codes}"


def _plans(plans: Sequence[FlaggedPlan], *, total: int) -> Block:
    title = (
        f"*:no_entry: {counted(total, 'organisation')} flagged for a Xero plan that cannot be "
        "integrated* (posting to it will fail)"
    )
    lines = []
    for plan in plans:
        kind = " ".join(part for part in (plan.plan_class, plan.edition) if part) or "unknown"
        customers = listing([escape(clip(name, LINE)) for name in plan.customer_names], limit=400)
        lines.append(
            f"• *{escape(clip(plan.organisation_name, LINE))}* · plan {escape(kind)}"
            + (f" · {customers}" if customers else " · no store linked")
            + f" · since {when(plan.since)}"
        )
    return section(_within(title, lines, hidden=total - len(plans), noun="organisation"))


def _webhook(state: WebhookState) -> Block:
    """Stuck pushes to the sync service; the error comes from the network, escaped here."""
    waiting = counted(state.waiting, "event") + " waiting"
    if state.oldest_waiting_since is not None:
        waiting += f" since {when(state.oldest_waiting_since)}"
    parts = [waiting] if state.waiting else []
    if state.abandoned_last_day:
        parts.append(
            f"{counted(state.abandoned_last_day, 'event')} abandoned in the last day "
            "(still in the events feed)"
        )
    text = ":satellite_antenna: *Sync webhook*: " + "; ".join(parts)
    if state.last_error:
        text += f" — last error: {escape(clip(state.last_error, 300))}"
    return section(text)


def _capacity(capacity: Capacity) -> Block:
    tier = escape(capacity.tier)
    if capacity.limit is None:
        text = f":bar_chart: Xero connections: {capacity.used}; the {tier} tier has no limit."
    else:
        text = (
            f":bar_chart: Xero connections: {capacity.used} of the {capacity.limit} "
            f"the app's {tier} tier allows."
        )
    if capacity.warning:
        text += f"\n:warning: {escape(capacity.warning)}"
    return section(text)


def _jobs(runs: Sequence[JobRunView]) -> Block:
    if not runs:
        return context(":gear: No scheduled job has run yet.")
    lines = [
        f"• `{escape(clip(run.job, 64))}` started {when(run.started_at)}: {_ended(run)}"
        for run in runs
    ]
    return section(_within("*:gear: Scheduled jobs*, their last run", lines, hidden=0, noun="job"))


def _ended(run: JobRunView) -> str:
    if run.outcome is None:
        return "still running, or its process stopped before it finished"
    if run.outcome == FAILED:
        return f":x: failed: {escape(clip(run.error or 'no error recorded', 300))}"
    finished = f" {when(run.finished_at)}" if run.finished_at else ""
    return f"finished{finished}, {escape(run.outcome)}"


def _within(title: str, lines: Sequence[str], *, hidden: int, noun: str) -> str:
    """`title` and `lines`, one a line, within a section's 3000 characters: the lines that
    do not fit, and `hidden` more, are counted at the end."""
    reserve = len(f"\n…and {hidden + len(lines)} more {noun}s")
    text = title
    for position, line in enumerate(lines):
        if len(text) + 1 + len(line) + reserve > MAX_SECTION_TEXT:
            hidden += len(lines) - position
            break
        text += "\n" + line
    if hidden:
        text += f"\n…and {hidden} more {_noun(hidden, noun)}"
    return text


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return counted(hours, "hour")
    return counted(hours // 24, "day")


def _agree(count: int, noun: str, one: str, many: str) -> str:
    """ "1 store needs", "2 stores need"."""
    return f"{counted(count, noun)} {one if count == 1 else many}"


def _noun(count: int, noun: str) -> str:
    return noun if count == 1 else f"{noun}s"
