"""What the emulated Xero holds: users, organisations and their connections to the app."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


@dataclass
class EmulatedOrganisation:
    tenant_id: str
    name: str
    plan_class: str = "STANDARD"
    edition: str = "BUSINESS"
    is_demo_company: bool = False
    status: str = "ACTIVE"


@dataclass
class EmulatedUser:
    user_id: str
    email: str
    name: str
    tenant_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EmulatedConnection:
    id: str
    tenant_id: str
    tenant_name: str
    tenant_type: str
    auth_event_id: str
    user_id: str
    created: datetime
    updated: datetime


class ConsentError(ValueError):
    """The consent cannot be given as asked; the message is shown on the consent page."""


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added to whatever query it already has."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


class Directory:
    """Users and organisations; `_lock` is shared with the rest of the emulator's state."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._users: dict[str, EmulatedUser] = {}
        self._organisations: dict[str, EmulatedOrganisation] = {}

    @property
    def users(self) -> list[EmulatedUser]:
        with self._lock:
            return list(self._users.values())

    @property
    def organisations(self) -> list[EmulatedOrganisation]:
        with self._lock:
            return list(self._organisations.values())

    def user(self, user_id: str) -> EmulatedUser | None:
        with self._lock:
            return self._users.get(user_id)

    def add_user(self, *, user_id: str | None = None, email: str, name: str) -> EmulatedUser:
        with self._lock:
            user_id = user_id or str(uuid.uuid4())
            if user_id in self._users:
                raise ValueError(f"user {user_id!r} already exists")
            user = self._users[user_id] = EmulatedUser(user_id, email, name, [])
            return user

    def add_organisation(
        self,
        name: str,
        *,
        plan_class: str = "STANDARD",
        edition: str = "BUSINESS",
        is_demo_company: bool = False,
        users: Sequence[str] = (),
    ) -> EmulatedOrganisation:
        """A new organisation; `users` are the ids of the users who may authorise it."""
        with self._lock:
            unknown = [user_id for user_id in users if user_id not in self._users]
            if unknown:
                raise ValueError(f"unknown user ids: {unknown}")
            organisation = EmulatedOrganisation(
                str(uuid.uuid4()), name, plan_class, edition, is_demo_company
            )
            self._organisations[organisation.tenant_id] = organisation
            for user_id in users:
                self._users[user_id].tenant_ids.append(organisation.tenant_id)
            return organisation

    def change_plan(self, tenant_id: str, plan_class: str) -> bool:
        """The organisation moves to another plan (`Organisation.Class`), as at Xero."""
        with self._lock:
            organisation = self._organisations.get(tenant_id)
            if organisation is None:
                return False
            organisation.plan_class = plan_class
            return True

    def invite(self, user_id: str, tenant_ids: Sequence[str]) -> None:
        """`user_id` may authorise these organisations too, as a user invited to them."""
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                raise ValueError(f"unknown user id: {user_id!r}")
            unknown = [t for t in tenant_ids if t not in self._organisations]
            if unknown:
                raise ValueError(f"unknown tenant ids: {unknown}")
            user.tenant_ids.extend(t for t in tenant_ids if t not in user.tenant_ids)

    def organisations_of(self, user_id: str) -> list[EmulatedOrganisation]:
        with self._lock:
            user = self._users.get(user_id)
            tenant_ids = user.tenant_ids if user else []
            return [self._organisations[t] for t in tenant_ids if t in self._organisations]
