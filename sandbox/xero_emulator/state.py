"""The emulated Xero in memory: users, organisations and their books, connections, consent,
tokens and faults.

No HTTP here. Every method holds one lock and never awaits, so requests handled concurrently
(in one event loop or from a test thread next to a uvicorn thread) see consistent state.
"""

from __future__ import annotations

import asyncio
import hmac
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from .answers import Sleep
from .faults import FaultInjector
from .ledger import Ledger
from .models import (
    ConsentError,
    Directory,
    EmulatedConnection,
    EmulatedOrganisation,
    EmulatedUser,
    with_query,
)
from .tokens import ISSUER, AccessRecord, GrantError, RefreshTokenInfo, TokenStore, make_jwt
from .traffic import Traffic


def utc_now() -> datetime:
    return datetime.now(UTC)


class EmulatorState(Directory, Ledger, FaultInjector, Traffic):
    def __init__(
        self,
        *,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 - the emulator's own fake secret
        app_name: str = "Cloud POS",
        clock: Callable[[], datetime] = utc_now,
        access_token_lifetime: timedelta = timedelta(minutes=30),
        grace: timedelta = timedelta(minutes=30),
        refresh_token_lifetime: timedelta = timedelta(days=60),
        code_lifetime: timedelta = timedelta(minutes=5),
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        Directory.__init__(self)
        Ledger.__init__(self)
        FaultInjector.__init__(self)
        Traffic.__init__(self)
        self.client_id = client_id
        self._client_secret = client_secret
        self.app_name = app_name
        self.clock = clock
        self.sleep = sleep
        """What an injected `delay` awaits; tests pass a fake one."""
        self._connections: dict[str, EmulatedConnection] = {}
        self._tokens = TokenStore(
            clock=clock,
            access_token_lifetime=access_token_lifetime,
            grace=grace,
            code_lifetime=code_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
        )
        self.token_requests: list[dict[str, str]] = []
        self.revocations: list[str] = []

    # --- consent ----------------------------------------------------------------------------

    def check_client(self, client_id: str, client_secret: str) -> bool:
        id_ok = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        return id_ok and secret_ok

    def authorize_request_error(
        self,
        *,
        response_type: str,
        client_id: str,
        redirect_uri: str,
        code_challenge_method: str = "",
    ) -> str | None:
        """Why an authorisation request cannot be shown, or None when it is well formed."""
        if client_id != self.client_id:
            return "Unknown client_id: no app with this id is registered with the emulator."
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "The redirect_uri is missing or is not an absolute http(s) URL."
        if response_type != "code":
            return "Unsupported response_type: only 'code' is supported."
        if code_challenge_method not in ("", "S256"):
            return "Unsupported code_challenge_method: only 'S256' is supported."
        return None

    def authorise(
        self,
        *,
        user_id: str,
        tenant_ids: Sequence[str],
        redirect_uri: str,
        state: str,
        scope: str = "",
        code_challenge: str = "",
        code_challenge_method: str = "",
    ) -> str:
        """What pressing "Allow access" does: the redirect URL carrying code, state and scope.

        A `code_challenge` (PKCE, S256 only) binds the code to its verifier."""
        with self._lock:
            if user_id not in self._users:
                raise ConsentError("Choose a user to log in as.")
            chosen = list(dict.fromkeys(tenant_ids))
            if not chosen:
                raise ConsentError("Tick at least one organisation to allow access to.")
            allowed = set(self._users[user_id].tenant_ids) & set(self._organisations)
            if not set(chosen) <= allowed:
                raise ConsentError("This user may not authorise one of the chosen organisations.")
            if code_challenge_method not in ("", "S256"):
                raise ConsentError("Only the S256 code_challenge_method is supported.")
            event, now = str(uuid.uuid4()), self.clock()
            for tenant_id in chosen:
                self._connect(user_id, self._organisations[tenant_id], event, now)
            code = self._tokens.new_code(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                user_id=user_id,
                auth_event_id=event,
                scope=tuple(scope.split()),
                code_challenge=code_challenge,
            )
        return with_query(redirect_uri, {"code": code, "state": state, "scope": scope})

    @staticmethod
    def deny(*, redirect_uri: str, state: str) -> str:
        """What pressing "Cancel" does."""
        return with_query(redirect_uri, {"error": "access_denied", "state": state})

    def _connect(
        self, user_id: str, organisation: EmulatedOrganisation, event: str, now: datetime
    ) -> None:
        for connection in self._connections.values():
            if (connection.user_id, connection.tenant_id) == (user_id, organisation.tenant_id):
                self._connections[connection.id] = replace(
                    connection, auth_event_id=event, tenant_name=organisation.name, updated=now
                )
                return
        connection = EmulatedConnection(
            str(uuid.uuid4()), organisation.tenant_id, organisation.name, "ORGANISATION",
            event, user_id, now, now,
        )  # fmt: skip
        self._connections[connection.id] = connection

    # --- tokens -----------------------------------------------------------------------------

    def token(self, form: Mapping[str, str], *, client_id: str) -> dict[str, object]:
        """The token endpoint for an authenticated client; raises `GrantError`."""
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise GrantError("invalid_request", description="grant_type is required")
        with self._lock:
            if grant_type == "authorization_code":
                if not form.get("code"):
                    raise GrantError("invalid_request", description="code is required")
                code = self._tokens.redeem_code(
                    form["code"],
                    client_id=client_id,
                    redirect_uri=form.get("redirect_uri", ""),
                    code_verifier=form.get("code_verifier", ""),
                )
                return self._token_response(
                    client_id, code.user_id, code.auth_event_id, code.scope, id_token=True
                )
            if grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    raise GrantError("invalid_request", description="refresh_token is required")
                used = self._tokens.use_refresh_token(form["refresh_token"], client_id=client_id)
                return self._token_response(
                    client_id, used.user_id, used.auth_event_id, used.scope, id_token=False
                )
        raise GrantError("unsupported_grant_type")

    def _token_response(
        self, client_id: str, user_id: str, event: str, scope: tuple[str, ...], *, id_token: bool
    ) -> dict[str, object]:
        issued = self._tokens.issue(
            client_id=client_id, user_id=user_id, auth_event_id=event, scope=scope
        )
        body: dict[str, object] = {
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "token_type": "Bearer",
            "refresh_token": issued.refresh_token,
            "scope": " ".join(scope),
        }
        if id_token:
            body["id_token"] = self._id_token(client_id, self._users[user_id])
        return body

    def _id_token(self, client_id: str, user: EmulatedUser) -> str:
        now = int(self.clock().timestamp())
        given, _, family = user.name.partition(" ")
        return make_jwt(
            {
                "iss": ISSUER, "aud": client_id, "nbf": now, "iat": now, "exp": now + 300,
                "auth_time": now, "sub": user.user_id, "xero_userid": user.user_id,
                "email": user.email, "preferred_username": user.email, "name": user.name,
                "given_name": given, "family_name": family,
            }
        )  # fmt: skip

    def revoke_token(self, token: str) -> None:
        """The revocation endpoint: a known refresh token revokes its whole user."""
        with self._lock:
            user_id = self._tokens.user_of_refresh_token(token)
            if user_id is not None:
                self.revoke_user(user_id)

    def revoke_user(self, user_id: str) -> None:
        """Like the user removing the app in Xero: refresh tokens dead, connections gone."""
        with self._lock:
            self._tokens.revoke_user(user_id)
            for connection in self.connections_of(user_id):
                del self._connections[connection.id]

    def refresh_token_info(self, refresh_token: str) -> RefreshTokenInfo | None:
        """What the emulator knows of a refresh token it issued; None for any other text."""
        with self._lock:
            return self._tokens.info(refresh_token)

    def access_user(self, access_token: str) -> str | None:
        """The user of a valid (issued, unexpired) access token."""
        record = self.access_record(access_token)
        return None if record is None else record.user_id

    def access_record(self, access_token: str) -> AccessRecord | None:
        """Whose a valid access token is and what its grant allows (its scope)."""
        with self._lock:
            return self._tokens.access(access_token)

    # --- API --------------------------------------------------------------------------------

    def connections_of(
        self, user_id: str, auth_event_id: str | None = None
    ) -> list[EmulatedConnection]:
        with self._lock:
            return [
                c
                for c in self._connections.values()
                if c.user_id == user_id and auth_event_id in (None, c.auth_event_id)
            ]

    @property
    def connections(self) -> list[EmulatedConnection]:
        with self._lock:
            return list(self._connections.values())

    def delete_connection(self, user_id: str, connection_id: str) -> bool:
        with self._lock:
            connection = self._connections.get(connection_id)
            if connection is None or connection.user_id != user_id:
                return False
            del self._connections[connection_id]
            return True

    def disconnect_organisation(self, tenant_id: str) -> int:
        """What "Disconnect" on Xero's Connected Apps page does: the app loses its connection
        to that organisation, whoever made it; tokens stay valid but reach it no more.
        """
        with self._lock:
            gone = [c.id for c in self._connections.values() if c.tenant_id == tenant_id]
            for connection_id in gone:
                del self._connections[connection_id]
            return len(gone)

    def organisation_for(self, user_id: str, tenant_id: str) -> EmulatedOrganisation | None:
        """The organisation, if this user has a connection to it."""
        with self._lock:
            if not any(c.tenant_id == tenant_id for c in self.connections_of(user_id)):
                return None
            return self._organisations.get(tenant_id)
