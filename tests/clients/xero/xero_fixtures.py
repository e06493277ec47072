"""Test data for the Xero client: its settings, fake tokens and Xero's answers."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import parse_qsl

import httpx

AUTHORIZE_URL = "https://login.xero.test/identity/connect/authorize"
TOKEN_URL = "https://identity.xero.test/connect/token"
REVOKE_URL = "https://identity.xero.test/connect/revocation"
API_URL = "https://api.xero.test"
ORGANISATION_URL = f"{API_URL}/api.xro/2.0/Organisation"
CONNECTIONS_URL = f"{API_URL}/connections"

CLIENT_ID = "CLIENTID0123"
CLIENT_SECRET = "client-SECRET-do-not-leak-42"
REDIRECT_URI = "https://bot.example.com/xero/callback"
SCOPES = ("openid", "profile", "email", "offline_access", "accounting.settings.read")
CODE = "auth-CODE-single-use-7f3a"
OLD_REFRESH = "refresh-OLD-9c1d2e"
NEW_REFRESH = "refresh-NEW-5b6a7f"

USER_ID = "0f3e2d1c-aaaa-bbbb-cccc-000000000001"
AUTH_EVENT = "5e4d3c2b-aaaa-bbbb-cccc-000000000002"
TENANT_A = "a1a1a1a1-0000-0000-0000-00000000000a"
TENANT_B = "b2b2b2b2-0000-0000-0000-00000000000b"


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(claims: dict[str, object]) -> str:
    """header.payload.signature with a meaningless signature: the client must not verify it."""
    return f"{_segment({'alg': 'RS256', 'typ': 'JWT'})}.{_segment(claims)}.c2lnbmF0dXJl"


ACCESS = fake_jwt(
    {
        "iss": "https://identity.xero.com",
        "sub": "access-sub",
        "xero_userid": USER_ID,
        "authentication_event_id": AUTH_EVENT,
        "scope": list(SCOPES),
        "marker": "ACCESS-TOKEN-MARKER",
    }
)
ID_TOKEN = fake_jwt(
    {
        "sub": "id-sub",
        "xero_userid": USER_ID,
        "email": "pat@harbour.example",
        "given_name": "Pat",
        "family_name": "Lee",
        "name": "Pat Lee",
    }
)
SECRETS = (ACCESS, ID_TOKEN, CLIENT_SECRET, CODE, OLD_REFRESH, NEW_REFRESH, "ACCESS-TOKEN-MARKER")


def token_json(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id_token": ID_TOKEN,
        "access_token": ACCESS,
        "expires_in": 1800,
        "token_type": "Bearer",
        "refresh_token": NEW_REFRESH,
        "scope": " ".join(SCOPES),
    }
    body.update(overrides)
    return body


def organisation_json(**overrides: object) -> dict[str, object]:
    org: dict[str, object] = {
        "OrganisationID": TENANT_A,
        "Name": "Harbour Cafés Ltd",
        "Class": "GROW",
        "Edition": "BUSINESS",
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
    }
    org.update(overrides)
    return {"Organisations": [org]}


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode()))


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
