"""Client for the Cloud POS API operations the bot relies on: licence, stores, tenders.

Cloud POS's public API documentation does not list these operations, so their contract
(paths, JSON shapes, rate limit, status codes) is an assumption kept entirely in this module:
if Cloud POS answers differently, this is the one place to adapt.

The customer's API key is a secret. It is sent only in the Authorization header and never put
in an exception message, a repr or a log line; the throttle table is keyed by its hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from bot.clients._http import (
    Retry,
    Sleep,
    Upstream,
    UpstreamClient,
    parse_json,
    retry_after,
    retrying_transport_errors,
)
from bot.common import bounds
from bot.domain.errors import (
    CloudPosKeyRejected,
    DomainError,
    ExternalServiceError,
    InvalidRequest,
    NotFound,
)
from bot.domain.ports import CloudPosStore, Licence, Tender

if TYPE_CHECKING:
    from bot.domain.ports import CloudPos

logger = logging.getLogger(__name__)

_LICENCE_PATH = "/api/licence"
_STORES_PATH = "/api/stores"
_TENDERS_PATH = "/api/stores/{code}/tenders"
_MAX_TENDERS = 200
"""A store has a handful of payment types; more than this is not read (and is logged)."""

# Only the seconds form is expected from Cloud POS; anything else gets the default.
_DEFAULT_RETRY_AFTER = 1.0
_MAX_RETRY_AFTER = 30.0

_PLAUSIBLE_KEY = re.compile(r"[\x21-\x7e]+")

_KEY_REJECTED = (
    "This key is not valid or not active. Check it in Cloud POS backoffice: Setup → "
    "Configuration → External Access To The Cloud POS API (ticked Active)."
)
_KEY_MALFORMED = (
    "This does not look like a Cloud POS API key: it contains spaces or characters an API key "
    "cannot have. Copy it again from Cloud POS backoffice (Setup → Configuration → External "
    "Access To The Cloud POS API)."
)
_RATE_LIMITED = "Cloud POS is rate limiting requests for this API key; try again in a minute."
_ASK_MAINTAINERS = "Ask the bot's maintainers to check the Cloud POS integration."


class _KeySlot:
    """Serialises one API key's requests so Cloud POS's one-per-second limit is never hit."""

    __slots__ = ("lock", "not_before")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.not_before = -math.inf


class CloudPosClient(UpstreamClient):
    """Shared by the whole bot, so every customer's key is throttled in one place."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float = 10.0,
        min_interval: float = 1.0,
        max_attempts: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstream = Upstream(
            "Cloud POS",
            metric="cloudpos",
            base_url=base_url,
            timeout=timeout,
            max_attempts=max_attempts,
            transport=transport,
            sleep=sleep,
            logger=logger,
        )
        if min_interval < 0:
            raise ValueError("min_interval must not be negative")
        self._min_interval = min_interval
        self._sleep = sleep
        self._clock = clock
        self._slots: dict[str, _KeySlot] = {}

    async def licence(self, api_key: str) -> Licence:
        """The licence decides whether the customer may use the Xero integration at all."""
        data = await self._get_json(api_key, _LICENCE_PATH, "the licence check")
        if not isinstance(data, dict):
            raise _unreadable("the licence check", "expected an object")
        group, licence = data.get("group"), data.get("licence")
        if not isinstance(group, str) or not isinstance(licence, str):
            raise _unreadable("the licence check", "'group' or 'licence' is missing or not text")
        if not group.strip() or bounds.too_long(group.strip(), bounds.GROUP):
            raise _unreadable(
                "the licence check", f"'group' is empty or over {bounds.GROUP} characters"
            )
        return Licence(group=group.strip(), licence=bounds.clipped(licence, bounds.LABEL))

    async def stores(self, api_key: str) -> list[CloudPosStore]:
        """Every store of the key's group, closed ones included, so closures can be flagged."""
        data = await self._get_json(api_key, _STORES_PATH, "the store list")
        if not isinstance(data, list):
            raise _unreadable("the store list", "expected a list")
        stores = []
        for position, entry in enumerate(data, start=1):
            if not isinstance(entry, dict):
                raise _unreadable("the store list", f"entry {position} is not an object")
            code, name, active = (
                entry.get("storeClientCode"),
                entry.get("name"),
                entry.get("active"),
            )
            if not isinstance(code, str) or not isinstance(name, str):
                raise _unreadable(
                    "the store list", f"entry {position} has no text 'storeClientCode' or 'name'"
                )
            if not isinstance(active, bool):
                raise _unreadable("the store list", f"entry {position} has no true/false 'active'")
            if not code.strip() or bounds.too_long(code.strip(), bounds.STORE_CODE):
                raise _unreadable(
                    "the store list",
                    f"entry {position}'s 'storeClientCode' is empty or over "
                    f"{bounds.STORE_CODE} characters",
                )
            stores.append(
                CloudPosStore(
                    code=code.strip(), name=bounds.clipped(name, bounds.NAME), active=active
                )
            )
        return stores

    async def tenders(self, api_key: str, store_code: str) -> list[Tender]:
        """The store's payment types, which its sales are posted by; a store the key's group
        no longer has is `NotFound` (Cloud POS's 404), so callers can say so rather than fail."""
        code = store_code.strip()
        if not code or bounds.too_long(code, bounds.STORE_CODE):
            raise InvalidRequest(
                f"A Cloud POS store code is 1 to {bounds.STORE_CODE} characters.",
                field="store_code",
            )
        purpose = f"the payment types of store {code}"
        path = _TENDERS_PATH.format(code=quote(code, safe=""))
        data = await self._get_json(api_key, path, purpose, _store_gone(code))
        if not isinstance(data, list):
            raise _unreadable(purpose, "expected a list")
        if len(data) > _MAX_TENDERS:
            logger.warning(
                "Cloud POS store %s: %d tenders, reading %d", code, len(data), _MAX_TENDERS
            )
        tenders = [
            _tender(entry, position, purpose)
            for position, entry in enumerate(data[:_MAX_TENDERS], start=1)
        ]
        ids = [tender.id for tender in tenders]
        if len(set(ids)) != len(ids):
            raise _unreadable(purpose, "two payment types have the same 'id'")
        return tenders

    async def _get_json(
        self, api_key: str, path: str, purpose: str, not_found: DomainError | None = None
    ) -> object:
        """GET with the key's throttle, retrying only what waiting can fix; a 404 raises
        `not_found` when given, for a path naming something that may be gone."""
        if not _PLAUSIBLE_KEY.fullmatch(api_key):
            # httpx/h11 would reject such a header with an error quoting the value: the key.
            raise InvalidRequest(_KEY_MALFORMED, field="api_key")
        slot = self._slots.setdefault(_key_hash(api_key), _KeySlot())
        not_before = -math.inf

        async def once() -> object:
            await self._take_turn(slot, not_before)
            try:
                with retrying_transport_errors(partial(_unavailable, purpose)):
                    response = await self._upstream.client.get(
                        path, headers={"Authorization": api_key}
                    )
            except httpx.DecodingError as exc:
                raise _unreadable(purpose, "the response could not be decoded") from exc
            status = response.status_code
            if response.is_success:
                return parse_json(response, partial(_unreadable, purpose))
            if status == httpx.codes.UNAUTHORIZED:
                raise CloudPosKeyRejected(_KEY_REJECTED, field="api_key")
            if status == httpx.codes.NOT_FOUND and not_found is not None:
                raise not_found
            if status == httpx.codes.TOO_MANY_REQUESTS:
                delay = retry_after(
                    response, default=_DEFAULT_RETRY_AFTER, maximum=_MAX_RETRY_AFTER
                )
                slot.not_before = max(slot.not_before, self._clock() + delay)
                failure = ExternalServiceError(_RATE_LIMITED, retryable=True)
                raise Retry(f"HTTP {status}", failure, delay)
            if status >= httpx.codes.INTERNAL_SERVER_ERROR:
                raise Retry(
                    f"HTTP {status}", _unavailable(purpose, f"it answered HTTP {status}"), None
                )
            raise ExternalServiceError(
                f"Cloud POS answered HTTP {status} to {purpose}; trying again will not "
                f"help. {_ASK_MAINTAINERS}",
                retryable=False,
            )

        async def hold_back(delay: float) -> None:
            """The next attempt waits its turn until `delay` has passed, in `_take_turn`."""
            nonlocal not_before
            not_before = self._clock() + delay

        return await self._upstream.retrying("GET", path, once, wait=hold_back)

    async def _take_turn(self, slot: _KeySlot, not_before: float) -> None:
        """Wait until this key may send again; callers sharing a key queue on its lock."""
        async with slot.lock:
            wait = max(slot.not_before, not_before) - self._clock()
            if wait > 0:
                await self._sleep(wait)
            slot.not_before = self._clock() + self._min_interval


def _tender(entry: object, position: int, purpose: str) -> Tender:
    """One entry of a tender list: the id is compared, so it is refused when too long."""
    if not isinstance(entry, dict):
        raise _unreadable(purpose, f"entry {position} is not an object")
    tender_id, name, kind = entry.get("id"), entry.get("name"), entry.get("type")
    if not isinstance(tender_id, str) or not isinstance(name, str) or not isinstance(kind, str):
        raise _unreadable(purpose, f"entry {position} has no text 'id', 'name' or 'type'")
    if not tender_id.strip() or bounds.too_long(tender_id.strip(), bounds.IDENTIFIER):
        raise _unreadable(
            purpose, f"entry {position}'s 'id' is empty or over {bounds.IDENTIFIER} characters"
        )
    return Tender(
        id=tender_id.strip(),
        name=bounds.clipped(name, bounds.NAME),
        type=bounds.clipped(kind, bounds.LABEL),
    )


def _store_gone(code: str) -> NotFound:
    return NotFound(
        f"Store {code} is not in Cloud POS any more for this customer's API key: it was "
        "removed, or moved to another group. Check the store list in Cloud POS backoffice.",
        field="store_code",
    )


def _key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _unavailable(purpose: str, detail: str) -> ExternalServiceError:
    return ExternalServiceError(
        f"Cloud POS is not answering right now ({detail} during {purpose}); "
        "try again in a few minutes.",
        retryable=True,
    )


def _unreadable(purpose: str, detail: str) -> ExternalServiceError:
    return ExternalServiceError(
        f"Cloud POS sent an answer the bot could not read for {purpose} ({detail}). "
        f"{_ASK_MAINTAINERS}",
        retryable=False,
    )


if TYPE_CHECKING:

    def _implements_the_port(client: CloudPosClient) -> CloudPos:
        return client
