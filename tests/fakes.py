"""Stand-ins for Cloud POS and Xero at the HTTP transport (respx), with just enough state."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import respx

from bot.domain.ports import TokenSet

CLOUDPOS_URL = "https://cloudpos.test"
XERO_API_URL = "https://api.xero.test"
XERO_TOKEN_URL = "https://identity.xero.test/connect/token"
XERO_REVOKE_URL = "https://identity.xero.test/connect/revocation"
XERO_AUTHORIZE_URL = "https://login.xero.test/identity/connect/authorize"


def fake_jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


@dataclass
class FakeCloudPos:
    """Customers by API key: licence and stores."""

    router: respx.Router
    accounts: dict[str, dict[str, object]] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds every answer takes, for a slow Cloud POS."""

    def __post_init__(self) -> None:
        self.router.get(f"{CLOUDPOS_URL}/api/licence").mock(side_effect=self._slowly(self._licence))
        self.router.get(f"{CLOUDPOS_URL}/api/stores").mock(side_effect=self._slowly(self._stores))

    def _slowly(
        self, answer: Callable[[httpx.Request], httpx.Response]
    ) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
        async def answer_after_delay(request: httpx.Request) -> httpx.Response:
            if self.delay:
                await asyncio.sleep(self.delay)
            return answer(request)

        return answer_after_delay

    def add(self, api_key: str, *, group: str, licence: str = "ProPlus", stores: int = 3) -> None:
        self.accounts[api_key] = {
            "group": group,
            "licence": licence,
            "stores": [
                {"storeClientCode": f"S{n:03}", "name": f"{group} store {n}", "active": True}
                for n in range(1, stores + 1)
            ],
        }

    def _account(self, request: httpx.Request) -> dict[str, object] | None:
        return self.accounts.get(request.headers.get("Authorization", ""))

    def _licence(self, request: httpx.Request) -> httpx.Response:
        account = self._account(request)
        if account is None:
            return httpx.Response(401, json={"message": "Unauthorized"})
        return httpx.Response(200, json={"group": account["group"], "licence": account["licence"]})

    def _stores(self, request: httpx.Request) -> httpx.Response:
        account = self._account(request)
        if account is None:
            return httpx.Response(401, json={"message": "Unauthorized"})
        return httpx.Response(200, json=account["stores"])


@dataclass
class FakeXero:
    """Xero's token, connections and Organisation endpoints for one app.

    Refresh tokens rotate; the previous one stays usable (Xero's 30-minute grace, not timed
    here); `revoked_users` answer `invalid_grant`.
    """

    router: respx.Router
    organisations: dict[str, dict[str, object]] = field(default_factory=dict)
    connections: list[dict[str, str]] = field(default_factory=list)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    revoked_users: set[str] = field(default_factory=set)
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    revocations: list[str] = field(default_factory=list)
    fail_deletes_with: int | None = None
    fail_revokes_with: int | None = None
    codes: dict[str, TokenSet] = field(default_factory=dict)
    issued: list[TokenSet] = field(default_factory=list)
    lose_token_responses: int = 0
    """Answers to drop after Xero has acted on them, as when a response is lost in transit."""

    def __post_init__(self) -> None:
        self.router.post(XERO_TOKEN_URL).mock(side_effect=self._token)
        self.router.post(XERO_REVOKE_URL).mock(side_effect=self._revoke)
        self.router.get(f"{XERO_API_URL}/connections").mock(side_effect=self._list_connections)
        self.router.delete(url__regex=rf"{XERO_API_URL}/connections/(?P<connection_id>[^/]+)").mock(
            side_effect=self._delete_connection
        )
        self.router.get(f"{XERO_API_URL}/api.xro/2.0/Organisation").mock(
            side_effect=self._organisation
        )

    def add_organisation(self, name: str, plan: str = "STANDARD", **fields: object) -> str:
        tenant_id = str(uuid.uuid4())
        self.organisations[tenant_id] = {
            "Name": name, "Class": plan, "Edition": "BUSINESS", "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE", **fields,
        }  # fmt: skip
        return tenant_id

    def consent(self, user: str, tenant_ids: list[str], *, email: str = "") -> str:
        """`user` allows access to `tenant_ids`: the authorisation code Xero sends back."""
        event = str(uuid.uuid4())
        for tenant_id in tenant_ids:
            self.connections = [
                c for c in self.connections if (c["user"], c["tenantId"]) != (user, tenant_id)
            ]
            self.connections.append(
                {
                    "id": str(uuid.uuid4()), "tenantId": tenant_id, "user": user,
                    "tenantName": str(self.organisations[tenant_id]["Name"]),
                    "tenantType": "ORGANISATION", "authEventId": event,
                }
            )  # fmt: skip
        self.revoked_users.discard(user)
        code = f"code-{uuid.uuid4().hex}"
        self.codes[code] = self._issue(user, event, email=email)
        return code

    def connection_ids(self, user: str) -> list[str]:
        return [c["id"] for c in self.connections if c["user"] == user]

    def _issue(self, user: str, event: str | None, *, email: str = "") -> TokenSet:
        refresh_token = f"refresh-{uuid.uuid4().hex}"
        self.refresh_tokens[refresh_token] = user
        tokens = TokenSet(
            access_token=fake_jwt({"xero_userid": user, "authentication_event_id": event,
                                   "jti": uuid.uuid4().hex}),
            refresh_token=refresh_token,
            expires_at=datetime.now(UTC) + timedelta(minutes=30),
            scopes=("offline_access", "accounting.settings.read"),
            xero_user_id=user,
            auth_event_id=event,
            user_name="",
            user_email=email,
        )  # fmt: skip
        self.issued.append(tokens)
        return tokens

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        self.token_requests.append(form)
        if form.get("grant_type") == ["authorization_code"]:
            issued = self.codes.pop(form.get("code", [""])[0], None)
            if issued is None:
                return httpx.Response(400, json={"error": "invalid_grant"})
            return self._token_response(issued)
        user = self.refresh_tokens.get(form.get("refresh_token", [""])[0])
        if user is None or user in self.revoked_users:
            return httpx.Response(400, json={"error": "invalid_grant"})
        tokens = self._issue(user, None)
        if self.lose_token_responses:
            self.lose_token_responses -= 1
            raise httpx.ReadTimeout("response lost", request=request)
        return self._token_response(tokens)

    def _token_response(self, tokens: TokenSet) -> httpx.Response:
        claims = {"xero_userid": tokens.xero_user_id, "email": tokens.user_email}
        return httpx.Response(
            200,
            json={
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "id_token": fake_jwt(claims),
                "expires_in": 1800,
                "token_type": "Bearer",
                "scope": " ".join(tokens.scopes),
            },
        )

    def _revoke(self, request: httpx.Request) -> httpx.Response:
        if self.fail_revokes_with is not None:
            return httpx.Response(self.fail_revokes_with)
        token = parse_qs(request.content.decode()).get("token", [""])[0]
        self.revocations.append(token)
        user = self.refresh_tokens.get(token)
        if user is not None:
            self.revoked_users.add(user)
            self.connections = [c for c in self.connections if c["user"] != user]
        return httpx.Response(200)

    def _list_connections(self, request: httpx.Request) -> httpx.Response:
        event = request.url.params.get("authEventId")
        found = [c for c in self.connections if event is None or c["authEventId"] == event]
        return httpx.Response(
            200, json=[{k: v for k, v in c.items() if k != "user"} for c in found]
        )

    def _delete_connection(self, request: httpx.Request, connection_id: str) -> httpx.Response:
        if self.fail_deletes_with is not None:
            return httpx.Response(self.fail_deletes_with)
        before = len(self.connections)
        self.connections = [c for c in self.connections if c["id"] != connection_id]
        return httpx.Response(204 if len(self.connections) < before else 404)

    def _organisation(self, request: httpx.Request) -> httpx.Response:
        organisation = self.organisations.get(request.headers.get("xero-tenant-id", ""))
        if organisation is None:
            return httpx.Response(403, json={"Detail": "AuthenticationUnsuccessful"})
        return httpx.Response(200, json={"Organisations": [organisation]})
