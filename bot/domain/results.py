"""Plain values the connection domain returns; front doors render them and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from .posting_values import Checklist
from .states import ConsentStatus, GrantStatus, StoreStatus


@dataclass(frozen=True)
class StoreView:
    id: int
    code: str
    name: str
    status: StoreStatus
    active_in_cloudpos: bool = True
    organisation_name: str | None = None
    checklist: Checklist | None = None
    """How far the store is from "ready for sync"; None for a store never connected."""
    setup_tenant_id: str | None = None
    """The organisation its posting set-up was made in: connecting it to another clears it."""

    @property
    def state_label(self) -> str:
        """The store's state in words, the same on every front door."""
        if self.status == StoreStatus.CONNECTED and self.organisation_name:
            return f"Connected to {self.organisation_name}"
        return _STATE_LABELS[self.status]


_STATE_LABELS = {
    StoreStatus.NOT_CONNECTED: "Not connected",
    StoreStatus.CONSENT_SENT: "Consent link sent",
    StoreStatus.AWAITING_CHOICE: "Awaiting organisation choice",
    StoreStatus.CONNECTED: "Connected",
    StoreStatus.DISCONNECTED: "Disconnected",
    StoreStatus.NEEDS_RECONNECT: "Needs reconnecting",
}


@dataclass(frozen=True)
class CustomerView:
    id: int
    name: str
    cloudpos_group: str
    licence: str
    stores: tuple[StoreView, ...] = ()


@dataclass(frozen=True)
class CustomerCandidate:
    id: int
    name: str


@dataclass(frozen=True)
class OpenLink:
    """A link still usable by the customer: issuing another for its stores withdraws it."""

    consent_request_id: int
    store_codes: tuple[str, ...]
    issued_by: str
    expires_at: datetime
    customer_name: str = ""
    issued_at: datetime | None = None
    report_to: str | None = None
    """Where the front door that issued the link hears of it, in its own terms."""
    choice_report: str | None = None
    """The report asking for the organisation choice, for the outcome to replace."""


@dataclass(frozen=True)
class ConsentLink:
    """A freshly issued link. `url` holds the secret token: show it once, never log it."""

    consent_request_id: int
    customer_id: int
    customer_name: str
    url: str = field(repr=False)
    expires_at: datetime
    store_codes: tuple[str, ...]
    replaced: tuple[OpenLink, ...] = ()
    """The open links of these stores it withdrew, as they were."""
    warning: str = ""
    """What the agent should know before sending it (the app near its Xero connection limit)."""


@dataclass(frozen=True)
class OrganisationOption:
    connection_id: int
    tenant_name: str
    plan_label: str
    eligible: bool
    reason: str = ""
    tenant_id: str = ""


@dataclass(frozen=True)
class ConsentView:
    """What a consent link stands for, as its landing and choice pages show it."""

    consent_request_id: int
    customer_id: int
    customer_name: str
    status: ConsentStatus
    expires_at: datetime
    stores: tuple[StoreView, ...]
    organisations: tuple[OrganisationOption, ...] = ()
    issued_by: str = ""
    report_to: str | None = None
    """Where the front door that issued the link hears of it, in its own terms."""
    choice_report: str | None = None
    """The report asking for the organisation choice, for the outcome to replace."""
    finished_at: datetime | None = None
    finished_by: str | None = None
    """Who completed, revoked or replaced the link (an audit actor)."""
    usable: bool = False
    """The customer can still use the link: open and unexpired, by the domain's clock."""

    @property
    def awaiting_choice(self) -> bool:
        """Consent was given at Xero; the organisation per store is still to be chosen."""
        return self.status == ConsentStatus.AUTHORISED


@dataclass(frozen=True)
class CallbackOutcome:
    """How the callback that claimed an OAuth state ended: `kind`, and for a failure its
    `reason` and the message people were shown."""

    kind: str
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class ConsentAttempt:
    """A verified answer from Xero: which link it belongs to, and that link's token.

    `settled` is set when another callback with the same state claimed it first: the code
    is not sent to Xero again, and this one shows how that one ended."""

    consent_request_id: int
    link_token: str = field(repr=False)
    state_id: int = 0
    code_verifier: str | None = field(default=None, repr=False)
    settled: CallbackOutcome | None = None

    def with_outcome(self, outcome: CallbackOutcome) -> ConsentAttempt:
        return replace(self, settled=outcome)


@dataclass(frozen=True)
class OrganisationGroup:
    """A Xero organisation and this customer's stores linked to it."""

    tenant_id: str
    tenant_name: str
    plan_label: str
    plan_recognised: bool
    eligible: bool
    grant_status: GrantStatus
    connected_by: str
    linked_at: datetime
    stores: tuple[StoreView, ...]


@dataclass(frozen=True)
class Summary:
    customer: CustomerView
    groups: tuple[OrganisationGroup, ...]
    not_connected: tuple[StoreView, ...]


@dataclass(frozen=True)
class Confirmation:
    consent_request_id: int
    customer_id: int
    linked: tuple[tuple[str, str], ...]
    """(store code, organisation name) for every store this confirmation linked."""
    unchanged: bool = False


@dataclass(frozen=True)
class Disconnection:
    tenant_name: str
    store_codes: tuple[str, ...]
    removed_at_xero: bool
    token_revoked: bool
    kept_for_other_customers: bool = False


@dataclass(frozen=True)
class AuditEntry:
    occurred_at: datetime
    actor: str
    action: str
    detail: dict[str, object]
    store_code: str | None = None


@dataclass(frozen=True)
class LinkOutcome:
    """What a used link achieved: the customer's summary and the link's own stores."""

    summary: Summary
    stores: tuple[StoreView, ...]

    @property
    def connected(self) -> tuple[StoreView, ...]:
        return tuple(store for store in self.stores if store.status == StoreStatus.CONNECTED)

    @property
    def unconnected(self) -> tuple[StoreView, ...]:
        return tuple(store for store in self.stores if store.status != StoreStatus.CONNECTED)

    @property
    def headline(self) -> str:
        """The truth in a few words: never "connected" for stores that are not."""
        if not self.unconnected:
            return (
                "Your store is connected" if len(self.stores) == 1 else "Your stores are connected"
            )
        noun = "store" if len(self.stores) == 1 else "stores"
        return f"{len(self.connected)} of {len(self.stores)} {noun} connected"


@dataclass(frozen=True, kw_only=True)
class ConnectionCheck:
    """What one connection check found, in counts (the scheduler records them per run)."""

    grants_checked: int = 0
    """Active grants checked completely: Xero listed their organisations and gave the
    plans that were due."""
    connections_gone: int = 0
    """Organisations found disconnected on Xero's side (newly, by this check)."""
    plans_flagged: int = 0
    """Organisations newly found on a plan that cannot be integrated."""
    plans_cleared: int = 0
    """Organisations whose plan flag was lifted (the plan can be integrated again)."""
    grants_unreachable: int = 0
    """Grants Xero could not be asked about this time (429, 5xx, timeouts): nothing marked."""
    grants_cannot_check: int = 0
    """Of those, the ones unreachable for more than a day: their state is unknown."""
    calls_made: int = 0
    """Calls to Xero's API (connections and organisation; token refreshes not counted)."""
    grants_need_reconnect: int = 0
    """Grants Xero refused to renew (`invalid_grant`) during the check: marked needs-reconnect."""
    stores_no_longer_ready: int = 0
    """Ready stores whose posting set-up Xero no longer accepts: no longer ready for sync."""


@dataclass(frozen=True, kw_only=True)
class JobRunView:
    """One run of a scheduled job, as recorded: when, by which process, how it ended."""

    job: str
    holder: str
    """The process that ran it (host, process id and a random part)."""
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str | None = None
    """ok, failed, or None while it runs (or when its process died before it finished)."""
    counts: dict[str, int] = field(default_factory=dict)
    """What the run counted (e.g. grants_checked), by name."""
    error: str | None = None
    """The error's class and a short message when it failed; never a credential."""

    @property
    def finished(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True, kw_only=True)
class StoreAttention:
    """A store the helpdesk must look at, and why."""

    code: str
    name: str
    status: StoreStatus
    organisation_name: str | None
    """The Xero organisation it is linked to, if any."""
    reason: str
    since: datetime | None


@dataclass(frozen=True, kw_only=True)
class CustomerAttention:
    """One customer's stores that need attention; `total` counts them all, `stores` the
    ones read."""

    customer_id: int
    customer_name: str
    stores: tuple[StoreAttention, ...]
    total: int
