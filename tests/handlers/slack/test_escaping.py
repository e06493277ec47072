"""A name a customer controls at Xero can never become a link or a mention in our messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.domain.errors import InvalidRequest
from bot.domain.notify import ConsentEvent, ConsentEventKind
from bot.domain.results import (
    ConsentView,
    CustomerView,
    Disconnection,
    OrganisationGroup,
    OrganisationOption,
    StoreView,
    Summary,
)
from handlers.slack.blocks.common import Message
from handlers.slack.blocks.links import (
    choice_closed,
    link_record,
    organisation_choice,
    progress_message,
)
from handlers.slack.blocks.modals import failed_view
from handlers.slack.blocks.summary import (
    disconnect_confirmation,
    disconnected_message,
    summary_message,
)
from handlers.slack.errors import describe
from storage.models import GrantStatus, StoreStatus
from tests.handlers.slack.test_blocks import mrkdwn_texts

EVIL = "Acme Ltd <https://evil.example/verify|verify your bank details> <!channel> <@U0BOSS>"
NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
LIVE = ("<https://evil", "<!channel>", "<@U0BOSS>")


def live_markup(value: object) -> list[str]:
    """Markup Slack would act on. Plain-text fields (headers, options) show it literally."""
    text = json.dumps(value, ensure_ascii=False)
    return [markup for markup in LIVE if markup in text]


STORE = StoreView(1, "S001", EVIL, StoreStatus.CONNECTED, organisation_name=EVIL)
CUSTOMER = CustomerView(1, EVIL, "g", "ProPlus", (STORE,))
GROUP = OrganisationGroup(
    tenant_id="t1",
    tenant_name=EVIL,
    plan_label=EVIL,
    plan_recognised=False,
    eligible=True,
    grant_status=GrantStatus.ACTIVE,
    connected_by=EVIL,
    linked_at=NOW,
    stores=(STORE,),
)
CONSENT = ConsentView(
    consent_request_id=1,
    customer_id=1,
    customer_name=EVIL,
    status="completed",
    expires_at=NOW,
    stores=(STORE,),
    organisations=(
        OrganisationOption(1, EVIL, EVIL, True),
        OrganisationOption(2, EVIL, "", False, EVIL),
    ),
    issued_by="slack:U0AGENT",
    finished_by="customer",
    finished_at=NOW,
)


def test_every_message_keeps_an_organisation_name_inert_in_text_and_blocks() -> None:
    messages: list[Message] = [
        summary_message(Summary(CUSTOMER, (GROUP,), (STORE,)), can_disconnect=True),
        disconnect_confirmation(CUSTOMER, GROUP),
        disconnected_message(CUSTOMER, Disconnection(EVIL, ("S001",), True, True)),
        organisation_choice(CONSENT),
        choice_closed(CONSENT),
        link_record(
            consent_request_id=1,
            customer_name=EVIL,
            store_codes=("S001",),
            issued_by="slack:U0AGENT",
            state="completed",
        ),
        *(progress_message(ConsentEvent(kind, CONSENT, detail=EVIL)) for kind in ConsentEventKind),
    ]
    for message in messages:
        assert live_markup(message.text) == [], message.text
        assert live_markup(mrkdwn_texts(message.blocks)) == [], message.text


def test_errors_carrying_names_are_escaped_where_they_become_mrkdwn() -> None:
    error = InvalidRequest(f"No organisation of this customer matches {EVIL!r}.")
    assert live_markup(describe(error)) == []
    assert "&lt;https://evil.example/verify|verify your bank details&gt;" in describe(error)
    assert live_markup(mrkdwn_texts(failed_view(error.message))) == []
