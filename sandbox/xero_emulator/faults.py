"""Fault injection: the next calls of an endpoint answer an error status, slowly if asked,
or are answered but the answer is lost on the way back.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Literal, get_args

Endpoint = Literal[
    "token",
    "revoke",
    "connections",
    "delete",
    "organisation",
    "accounts",
    "tax_rates",
    "tracking",
    "contacts",
    "contact",
]
"""What faults, holds and counts are kept by: "contacts" is the list, "contact" one by id."""
ENDPOINTS: frozenset[str] = frozenset(get_args(Endpoint))
ACCOUNTING_ENDPOINTS = frozenset({"accounts", "tax_rates", "tracking", "contacts", "contact"})
"""The Accounting API reads the posting set-up makes; the status page lists them apart."""


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: int | None
    delay: float


class FaultInjector:
    def __init__(self) -> None:
        self._fault_lock = threading.Lock()
        self._faults: dict[str, deque[tuple[Fault, int | None]]] = {
            name: deque() for name in ENDPOINTS
        }
        self._lost: Counter[str] = Counter()

    def fail_next(
        self,
        endpoint: Endpoint,
        *,
        status: int = 503,
        times: int | None = 1,
        retry_after: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `times` calls of `endpoint` with `status` after waiting `delay`
        seconds; `times=None` answers every call so until `clear_faults()`. A status below
        400 only delays them: they are then handled normally.
        """
        _check_endpoint(endpoint)
        if not 100 <= status <= 599 or (times is not None and times < 1) or delay < 0:
            raise ValueError("status must be 100-599, times at least 1, delay not negative")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must not be negative")
        with self._fault_lock:
            self._faults[endpoint].append((Fault(status, retry_after, delay), times))

    def lose_next_answers(self, endpoint: Endpoint, *, times: int = 1) -> None:
        """Handle the next `times` calls of `endpoint` as usual, then lose each answer on its
        way back, as a dropped connection would: Xero has acted, the caller never hears so.
        Only `XeroEmulator.transport()` loses answers (it raises `httpx.ReadTimeout`).
        """
        _check_endpoint(endpoint)
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._fault_lock:
            self._lost[endpoint] += times

    def take_lost(self, endpoint: Endpoint) -> bool:
        """Whether this call's answer is to be lost."""
        with self._fault_lock:
            if self._lost[endpoint] <= 0:
                return False
            self._lost[endpoint] -= 1
            return True

    def pending_faults(self) -> list[tuple[str, Fault, int | None]]:
        """(endpoint, fault, calls left or None for until cleared) for every fault still
        queued, for the status page."""
        with self._fault_lock:
            return [
                (name, fault, times)
                for name in sorted(self._faults)
                for fault, times in self._faults[name]
            ]

    def clear_faults(self) -> None:
        with self._fault_lock:
            for queue in self._faults.values():
                queue.clear()
            self._lost.clear()

    def take_fault(self, endpoint: Endpoint) -> Fault | None:
        with self._fault_lock:
            queue = self._faults[endpoint]
            if not queue:
                return None
            fault, remaining = queue[0]
            if remaining is not None:
                queue.popleft()
                if remaining > 1:
                    queue.appendleft((fault, remaining - 1))
            return fault


def _check_endpoint(endpoint: str) -> None:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {sorted(ENDPOINTS)}")
