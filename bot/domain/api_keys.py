"""The keys the sync service calls the API with.

A key reads `xbk_<key id>_<secret>`. Only a SHA-256 hash of the secret is stored (the secret
is 256 random bits, so a slow hash adds nothing); the key id finds the row and the hashes
are compared in constant time. Uses are counted in memory and written every few seconds
(`UsageCounter`), so calls do not queue on one row; the first use is written and audited at
once, and the last use is kept with the count.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storage.models import ApiKey

from ._session import audit, transaction
from .dependencies import Dependencies
from .errors import Conflict, InvalidRequest, NotFound

PREFIX = "xbk"
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_KEY = re.compile(rf"{PREFIX}_([a-z0-9]{{12}})_([A-Za-z0-9_-]{{43}})")
FLUSH_EVERY = timedelta(seconds=5)


@dataclass(frozen=True, kw_only=True)
class ApiKeyView:
    name: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    first_used_at: datetime | None
    last_used_at: datetime | None
    uses: int


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who an authenticated request comes from."""

    key_id: int
    name: str
    first_use: bool


async def create(deps: Dependencies, *, name: str, actor: str) -> str:
    """A new key named `name`: returned once, never stored or shown again."""
    name = name.strip().lower()
    if not NAME.fullmatch(name):
        raise InvalidRequest(
            "A key's name is 1 to 64 lower-case letters, digits and dashes, e.g. pos-sync.",
            field="name",
        )
    key_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    try:
        async with transaction(deps) as session:
            session.add(
                ApiKey(
                    name=name,
                    key_id=key_id,
                    secret_hash=_hash(secret),
                    created_at=deps.clock(),
                    created_by=actor,
                )
            )
            await session.flush()
            audit(deps, session, actor=actor, action="api_key.created", key=name)
    except IntegrityError:
        raise Conflict(
            f"There is already a key named {name} (a revoked key keeps its name). Pick another "
            f"name, e.g. {name[:60]}-2."
        ) from None
    return f"{PREFIX}_{key_id}_{secret}"


async def listing(deps: Dependencies) -> list[ApiKeyView]:
    """Every key, active first, by name."""
    async with transaction(deps, read_only=True) as session:
        keys = await session.scalars(
            select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.name)
        )
        return [
            ApiKeyView(
                name=key.name,
                created_at=key.created_at,
                created_by=key.created_by,
                revoked_at=key.revoked_at,
                first_used_at=key.first_used_at,
                last_used_at=key.last_used_at,
                uses=key.uses,
            )
            for key in keys
        ]


async def revoke(deps: Dependencies, *, name: str, actor: str) -> None:
    """Refuse the key from now on; audited with how much it was used."""
    async with transaction(deps) as session:
        key = await session.scalar(
            select(ApiKey).where(ApiKey.name == name.strip().lower()).with_for_update()
        )
        if key is None:
            raise NotFound(
                f"There is no key named {name[:64]}. `xero-bot api-key list` lists them."
            )
        if key.revoked_at is not None:
            raise Conflict(f"The key {key.name} was revoked already.")
        key.revoked_at = deps.clock()
        audit(
            deps, session, actor=actor, action="api_key.revoked", key=key.name,
            uses=key.uses, last_used_at=key.last_used_at.isoformat() if key.last_used_at else None,
        )  # fmt: skip


async def authenticate(deps: Dependencies, *, presented: str) -> Caller | None:
    """The caller a presented key belongs to, or None for a malformed, unknown or revoked key.
    A key's first use is recorded (and audited) here, at once."""
    match = _KEY.fullmatch(presented)
    if match is None:
        return None
    key_id, secret = match.groups()
    async with transaction(deps, read_only=True) as session:
        key = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    stored = key.secret_hash if key is not None else _hash("")
    if not hmac.compare_digest(stored, _hash(secret)) or key is None or key.revoked_at:
        return None
    first_use = key.first_used_at is None and await _record_first_use(deps, key.id, key.name)
    return Caller(key_id=key.id, name=key.name, first_use=first_use)


class UsageCounter:
    """Uses counted in this process, written to the keys' rows together."""

    def __init__(self) -> None:
        self._pending: Counter[int] = Counter()
        self._last_used: dict[int, datetime] = {}
        self._flushed_at: datetime | None = None

    async def count(self, deps: Dependencies, caller: Caller) -> None:
        """One use of `caller`'s key; written once the last write is `FLUSH_EVERY` old."""
        now = deps.clock()
        self._pending[caller.key_id] += 1
        self._last_used[caller.key_id] = now
        if self._flushed_at is None:
            self._flushed_at = now
        elif now - self._flushed_at >= FLUSH_EVERY:
            await self.flush(deps)

    async def flush(self, deps: Dependencies) -> None:
        """Write what was counted (at shutdown, and every `FLUSH_EVERY` while serving)."""
        pending, self._pending = self._pending, Counter()
        last_used, self._last_used = self._last_used, {}
        self._flushed_at = deps.clock()
        if not pending:
            return
        async with transaction(deps) as session:
            for key_id in sorted(pending):
                await session.execute(
                    update(ApiKey)
                    .where(ApiKey.id == key_id)
                    .values(uses=ApiKey.uses + pending[key_id], last_used_at=last_used[key_id])
                )


async def _record_first_use(deps: Dependencies, key_id: int, name: str) -> bool:
    async with transaction(deps) as session:
        claimed = await session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.first_used_at.is_(None))
            .values(first_used_at=deps.clock())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        audit(deps, session, actor=f"api:{name}", action="api_key.first_used", key=name)
        return True


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
