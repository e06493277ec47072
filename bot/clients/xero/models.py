"""What the bot reads from Xero, parsed defensively.

Xero adds values over time (new plan classes most of all), so text fields are open strings;
anything missing or of the wrong shape becomes a clear error, never a KeyError.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.common import bounds
from bot.domain.ports import Organisation, TokenSet, XeroTenantConnection

from ._failures import unreadable


def connections_from(data: object, purpose: str) -> list[XeroTenantConnection]:
    if not isinstance(data, list):
        raise unreadable(purpose, "expected a list")
    connections = []
    for position, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise unreadable(purpose, f"entry {position} is not an object")
        connection_id, tenant_id = entry.get("id"), entry.get("tenantId")
        if not isinstance(connection_id, str) or not connection_id:
            raise unreadable(purpose, f"entry {position} has no text 'id'")
        if not isinstance(tenant_id, str) or not tenant_id:
            raise unreadable(purpose, f"entry {position} has no text 'tenantId'")
        auth_event_id = _optional_text(entry, "authEventId", purpose)
        for key, value in (
            ("id", connection_id),
            ("tenantId", tenant_id),
            ("authEventId", auth_event_id),
        ):
            if bounds.too_long(value, bounds.IDENTIFIER):
                raise unreadable(purpose, f"entry {position}'s '{key}' is not an identifier")
        connections.append(
            XeroTenantConnection(
                id=connection_id,
                tenant_id=tenant_id,
                tenant_name=bounds.clipped(
                    _optional_text(entry, "tenantName", purpose), bounds.ORGANISATION_NAME
                ),
                tenant_type=bounds.clipped(
                    _optional_text(entry, "tenantType", purpose), bounds.LABEL
                ),
                auth_event_id=auth_event_id,
            )
        )
    return connections


def organisation_from(data: object, purpose: str) -> Organisation:
    organisations = data.get("Organisations") if isinstance(data, dict) else None
    if not isinstance(organisations, list) or not organisations:
        raise unreadable(purpose, "no 'Organisations' list")
    entry = organisations[0]
    if not isinstance(entry, dict):
        raise unreadable(purpose, "the organisation is not an object")
    name = entry.get("Name")
    if not isinstance(name, str):
        raise unreadable(purpose, "the organisation has no text 'Name'")
    is_demo = entry.get("IsDemoCompany", False)
    if not isinstance(is_demo, bool):
        raise unreadable(purpose, "'IsDemoCompany' is not true/false")
    return Organisation(
        name=bounds.clipped(name, bounds.ORGANISATION_NAME),
        plan_class=bounds.clipped(_optional_text(entry, "Class", purpose), bounds.LABEL),
        edition=bounds.clipped(_optional_text(entry, "Edition", purpose), bounds.LABEL),
        is_demo_company=is_demo,
        status=bounds.clipped(_optional_text(entry, "OrganisationStatus", purpose), bounds.LABEL),
    )


def token_set_from(
    token: Mapping[str, object], *, default_scopes: tuple[str, ...], purpose: str
) -> TokenSet:
    """The token endpoint's answer as a `TokenSet`, with the Xero user read from the JWTs."""
    access_token, refresh_token = token.get("access_token"), token.get("refresh_token")
    if not isinstance(access_token, str) or not access_token:
        raise unreadable(purpose, "the token response has no access token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise unreadable(
            purpose, "the token response has no refresh token; is offline_access requested?"
        )
    expires_at = _expiry(token.get("expires_at"))
    if expires_at is None:
        raise unreadable(purpose, "the token response says nothing valid about expiry")
    scope = token.get("scope")
    if scope is None:
        scopes = default_scopes
    elif isinstance(scope, str):
        scopes = tuple(scope.split())
    elif isinstance(scope, list) and all(isinstance(item, str) for item in scope):
        scopes = tuple(scope)
    else:
        raise unreadable(purpose, "the token response's scope is not text")
    access_claims = _jwt_claims(access_token)
    id_claims = _jwt_claims(token.get("id_token"))
    xero_user_id = _first_text(
        access_claims.get("xero_userid"),
        id_claims.get("xero_userid"),
        id_claims.get("sub"),
        access_claims.get("sub"),
    )
    if not xero_user_id or bounds.too_long(xero_user_id, bounds.IDENTIFIER):
        raise unreadable(purpose, "the tokens do not say which Xero user they belong to")
    auth_event_id = _first_text(access_claims.get("authentication_event_id"))
    if bounds.too_long(auth_event_id, bounds.IDENTIFIER):
        raise unreadable(purpose, "the tokens' authentication event is not an identifier")
    given_and_family = " ".join(
        part
        for part in (
            _first_text(id_claims.get("given_name")),
            _first_text(id_claims.get("family_name")),
        )
        if part
    )
    return TokenSet(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=expires_at,
        scopes=scopes,
        xero_user_id=xero_user_id,
        auth_event_id=auth_event_id or None,
        user_name=bounds.clipped(
            _first_text(id_claims.get("name")) or given_and_family, bounds.NAME
        ),
        user_email=bounds.clipped(_first_text(id_claims.get("email")), bounds.EMAIL),
    )


def _jwt_claims(token: object) -> dict[str, object]:
    """The payload of a JWT, unverified: it comes straight from Xero's token endpoint over TLS.

    Anything that is not a JWT gives no claims rather than an error.
    """
    if not isinstance(token, str):
        return {}
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _first_text(*values: object) -> str:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _optional_text(entry: Mapping[str, object], key: str, purpose: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise unreadable(purpose, f"'{key}' is not text")
    return value


def _expiry(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
