"""Authorisation codes, refresh-token rotation and access tokens, as Xero's identity server.

Tokens are kept only as SHA-256 digests, so no token text sits in a record, a repr or a log.
Nothing here knows about HTTP; every rule reads time from the injected clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

ISSUER = "https://identity.xero.com"
AUDIENCE = f"{ISSUER}/resources"


class GrantError(Exception):
    """An OAuth error answer: `error` is the RFC 6749 code, `status` the HTTP status."""

    def __init__(self, error: str, *, status: int = 400, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description


@dataclass
class CodeRecord:
    client_id: str
    redirect_uri: str
    user_id: str
    auth_event_id: str
    scope: tuple[str, ...]
    expires_at: datetime
    code_challenge: str = ""
    used: bool = False


@dataclass
class RefreshRecord:
    client_id: str
    user_id: str
    auth_event_id: str
    scope: tuple[str, ...]
    issued_at: datetime
    rotated_at: datetime | None = None
    revoked: bool = False


@dataclass(frozen=True)
class AccessRecord:
    user_id: str
    auth_event_id: str
    expires_at: datetime
    scope: tuple[str, ...] = ()
    """What the grant allows: Xero refuses an API call whose scope the token lacks."""


@dataclass(frozen=True)
class RefreshTokenInfo:
    user_id: str
    rotated: bool
    """Used once already: it works again only within the grace period."""
    revoked: bool
    newest: bool
    """The last refresh token issued to its user."""


@dataclass(frozen=True)
class Issued:
    """A freshly issued pair; the caller hands it out once and the store keeps only digests."""

    access_token: str
    refresh_token: str
    expires_in: int


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_jwt(claims: dict[str, object]) -> str:
    """header.payload.signature in base64url; the signature is random, never verifiable."""

    def segment(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": "RS256", "typ": "JWT", "kid": "xero-emulator"}
    return ".".join(
        (
            segment(json.dumps(header).encode()),
            segment(json.dumps(claims).encode()),
            segment(secrets.token_bytes(32)),
        )
    )


def _verifier_matches(challenge: str, verifier: str) -> bool:
    if not challenge:
        return True
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return hmac.compare_digest(computed.rstrip(b"=").decode(), challenge)


class TokenStore:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        access_token_lifetime: timedelta,
        grace: timedelta,
        code_lifetime: timedelta,
        refresh_token_lifetime: timedelta,
    ) -> None:
        self._clock = clock
        self._access_lifetime = access_token_lifetime
        self._grace = grace
        self._code_lifetime = code_lifetime
        self._refresh_lifetime = refresh_token_lifetime
        self._codes: dict[str, CodeRecord] = {}
        self._refresh: dict[str, RefreshRecord] = {}
        self._access: dict[str, AccessRecord] = {}

    def new_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        user_id: str,
        auth_event_id: str,
        scope: tuple[str, ...],
        code_challenge: str = "",
    ) -> str:
        code = secrets.token_urlsafe(32)
        self._codes[digest(code)] = CodeRecord(
            client_id=client_id,
            redirect_uri=redirect_uri,
            user_id=user_id,
            auth_event_id=auth_event_id,
            scope=scope,
            expires_at=self._clock() + self._code_lifetime,
            code_challenge=code_challenge,
        )
        return code

    def redeem_code(
        self, code: str, *, client_id: str, redirect_uri: str, code_verifier: str = ""
    ) -> CodeRecord:
        """The code's record, marked used; unknown, used, expired or mismatched: invalid_grant.

        A code issued with a PKCE challenge needs the verifier whose S256 digest it is."""
        record = self._codes.get(digest(code))
        if (
            record is None
            or record.used
            or self._clock() >= record.expires_at
            or record.client_id != client_id
            or record.redirect_uri != redirect_uri
            or not _verifier_matches(record.code_challenge, code_verifier)
        ):
            raise GrantError("invalid_grant")
        record.used = True
        return record

    def use_refresh_token(self, refresh_token: str, *, client_id: str) -> RefreshRecord:
        """Accept a refresh token: the current one (now rotated away), or a rotated one in grace."""
        record = self._refresh.get(digest(refresh_token))
        now = self._clock()
        if (
            record is None
            or record.revoked
            or record.client_id != client_id
            or now >= record.issued_at + self._refresh_lifetime
            or (record.rotated_at is not None and now > record.rotated_at + self._grace)
        ):
            raise GrantError("invalid_grant")
        if record.rotated_at is None:
            record.rotated_at = now
        return record

    def issue(
        self, *, client_id: str, user_id: str, auth_event_id: str, scope: tuple[str, ...]
    ) -> Issued:
        now = self._clock()
        expires_at = now + self._access_lifetime
        access_token = make_jwt(
            {
                "iss": ISSUER,
                "aud": AUDIENCE,
                "nbf": int(now.timestamp()),
                "iat": int(now.timestamp()),
                "exp": int(expires_at.timestamp()),
                "sub": user_id,
                "xero_userid": user_id,
                "authentication_event_id": auth_event_id,
                "client_id": client_id,
                "scope": list(scope),
                "jti": secrets.token_hex(16),
            }
        )
        refresh_token = secrets.token_urlsafe(32)
        self._access[digest(access_token)] = AccessRecord(user_id, auth_event_id, expires_at, scope)
        self._refresh[digest(refresh_token)] = RefreshRecord(
            client_id=client_id,
            user_id=user_id,
            auth_event_id=auth_event_id,
            scope=scope,
            issued_at=now,
        )
        return Issued(access_token, refresh_token, int(self._access_lifetime.total_seconds()))

    def user_of_refresh_token(self, refresh_token: str) -> str | None:
        record = self._refresh.get(digest(refresh_token))
        return None if record is None else record.user_id

    def info(self, refresh_token: str) -> RefreshTokenInfo | None:
        key = digest(refresh_token)
        record = self._refresh.get(key)
        if record is None:
            return None
        newest = next(k for k, r in reversed(self._refresh.items()) if r.user_id == record.user_id)
        return RefreshTokenInfo(
            record.user_id, record.rotated_at is not None, record.revoked, newest == key
        )

    def revoke_user(self, user_id: str) -> None:
        """Every refresh token of the user dies. Access tokens are self-contained JWTs at Xero
        and stay valid until they expire; the user's connections are what revocation removes.
        """
        for record in self._refresh.values():
            if record.user_id == user_id:
                record.revoked = True

    def access(self, access_token: str) -> AccessRecord | None:
        """The record of an access token this store issued and that has not expired yet."""
        record = self._access.get(digest(access_token))
        if record is None or self._clock() >= record.expires_at:
            return None
        return record
