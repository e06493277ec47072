"""The connection domain: every rule about connecting Cloud POS stores to Xero lives here.

Front doors call the feature modules' functions with the `Dependencies` and plain values,
and get plain results or a `DomainError` whose message is for people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import audit, choice, consent, customers, grants, links, organisations, pages
from ._queries import token_hash
from .dependencies import Dependencies


class ConnectionService:
    """Transitional: the old method names, delegating to the feature modules."""

    def __init__(self, dependencies: Dependencies) -> None:
        self._deps = self.deps = dependencies

    def _now(self) -> datetime:
        return self._deps.clock()

    async def register_customer(self, **kwargs: Any) -> Any:
        return await customers.register(self._deps, **kwargs)

    async def find_customer(self, **kwargs: Any) -> Any:
        return await customers.find_customer(self._deps, **kwargs)

    async def identify_customer(self, **kwargs: Any) -> Any:
        return await customers.identify(self._deps, **kwargs)

    async def get_customer(self, **kwargs: Any) -> Any:
        return await customers.get(self._deps, **kwargs)

    async def refresh_stores(self, **kwargs: Any) -> Any:
        return await customers.refresh_stores(self._deps, **kwargs)

    async def audit_log(self, **kwargs: Any) -> Any:
        return await audit.history(self._deps, **kwargs)

    async def issue_consent_link(self, **kwargs: Any) -> Any:
        return await links.issue(self._deps, **kwargs)

    async def revoke_consent_link(self, **kwargs: Any) -> Any:
        return await links.revoke(self._deps, **kwargs)

    async def open_consent(self, **kwargs: Any) -> Any:
        return await consent.open(self._deps, **kwargs)

    async def consent_for_request(self, **kwargs: Any) -> Any:
        return await links.get(self._deps, **kwargs)

    async def start_consent(self, **kwargs: Any) -> Any:
        return await consent.start(self._deps, **kwargs)

    async def verify_callback(self, **kwargs: Any) -> Any:
        return await consent.verify_callback(self._deps, **kwargs)

    async def complete_consent(self, **kwargs: Any) -> Any:
        return await consent.complete(self._deps, **kwargs)

    async def cancel_consent(self, **kwargs: Any) -> Any:
        return await consent.cancel(self._deps, **kwargs)

    async def confirm_organisations(self, **kwargs: Any) -> Any:
        return await choice.confirm(self._deps, **kwargs)

    async def open_choice(self, **kwargs: Any) -> Any:
        return await pages.open_choice(self._deps, **kwargs)

    async def check_consenting_browser(self, **kwargs: Any) -> Any:
        return await pages.check_browser(self._deps, **kwargs)

    async def finished_link(self, **kwargs: Any) -> Any:
        return await pages.finished(self._deps, **kwargs)

    async def summary(self, **kwargs: Any) -> Any:
        return await organisations.summary(self._deps, **kwargs)

    async def find_organisation_group(self, **kwargs: Any) -> Any:
        return await organisations.find_group(self._deps, **kwargs)

    async def disconnect_organisation(self, **kwargs: Any) -> Any:
        return await organisations.disconnect(self._deps, **kwargs)

    async def access_token(self, **kwargs: Any) -> Any:
        return await grants.access_token(self._deps, **kwargs)

    async def keep_grants_alive(self, **kwargs: Any) -> Any:
        return await grants.keep_alive(self._deps, **kwargs)

    async def note_link_shared(self, **kwargs: Any) -> Any:
        return await links.note_shared(self._deps, **kwargs)

    async def record_access_refused(self, **kwargs: Any) -> Any:
        return await audit.record_refusal(self._deps, **kwargs)


__all__ = ["ConnectionService", "Dependencies", "token_hash"]
