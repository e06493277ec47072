"""What the API tests share: problem answers checked alike, the stores a test starts from,
and the store events and audit rows read back from the database."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from bot.domain import Dependencies
from storage.engine import transaction
from storage.models import Customer, Store, StoreStatus, XeroGrant

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document of an error answer, checked to be one."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    return response.json()


async def store_status(deps: Dependencies, code: str, *, group: str = "acme") -> StoreStatus:
    async with transaction(deps.sessions, read_only=True) as session:
        stores = list(await session.scalars(select(Store).where(Store.code == code)))
    [found] = [s for s in stores if s.customer_id == await customer_of_group(deps, group)]
    return found.status


async def customer_of_group(deps: Dependencies, group: str) -> int:
    async with transaction(deps.sessions, read_only=True) as session:
        customer_id = await session.scalar(
            select(Customer.id).where(Customer.cloudpos_group == group)
        )
    assert customer_id is not None
    return int(customer_id)


async def grants(deps: Dependencies) -> list[XeroGrant]:
    async with transaction(deps.sessions, read_only=True) as session:
        return list(await session.scalars(select(XeroGrant).order_by(XeroGrant.id)))
