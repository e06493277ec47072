"""Xero's API: the app's connections and the Organisation endpoint, behind bearer tokens."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .answers import Sleep, injected_fault, problem, unauthorized
from .models import EmulatedConnection
from .state import EmulatorState

logger = logging.getLogger(__name__)


def xero_datetime(moment: datetime) -> str:
    """Xero's connection dates: UTC without an offset, e.g. 2026-07-09T23:40:30.183313."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")


def connection_json(connection: EmulatedConnection) -> dict[str, str]:
    return {
        "id": connection.id,
        "authEventId": connection.auth_event_id,
        "tenantId": connection.tenant_id,
        "tenantType": connection.tenant_type,
        "tenantName": connection.tenant_name,
        "createdDateUtc": xero_datetime(connection.created),
        "updatedDateUtc": xero_datetime(connection.updated),
    }


class Api:
    def __init__(self, state: EmulatorState, sleep: Sleep) -> None:
        self._state = state
        self._sleep = sleep

    async def list_connections(self, request: Request) -> Response:
        if (fault := await injected_fault(self._state, "connections", self._sleep)) is not None:
            return fault
        if (user_id := self._bearer_user(request)) is None:
            return unauthorized()
        event = request.query_params.get("authEventId") or None
        return JSONResponse(
            [connection_json(c) for c in self._state.connections_of(user_id, event)]
        )

    async def delete_connection(self, request: Request) -> Response:
        if (fault := await injected_fault(self._state, "delete", self._sleep)) is not None:
            return fault
        if (user_id := self._bearer_user(request)) is None:
            return unauthorized()
        if self._state.delete_connection(user_id, request.path_params["connection_id"]):
            logger.info("User %s removed a connection", user_id)
            return Response(status_code=204)
        return JSONResponse(problem(404, "The connection was not found"), 404)

    async def organisation(self, request: Request) -> Response:
        if (fault := await injected_fault(self._state, "organisation", self._sleep)) is not None:
            return fault
        if (user_id := self._bearer_user(request)) is None:
            return unauthorized()
        tenant_id = request.headers.get("xero-tenant-id", "")
        organisation = self._state.organisation_for(user_id, tenant_id)
        if organisation is None:
            return JSONResponse(problem(403, "AuthenticationUnsuccessful"), 403)
        return JSONResponse(
            {
                "Id": str(uuid.uuid4()),
                "Status": "OK",
                "ProviderName": self._state.app_name,
                "Organisations": [
                    {
                        "OrganisationID": organisation.tenant_id,
                        "Name": organisation.name,
                        "Class": organisation.plan_class,
                        "Edition": organisation.edition,
                        "IsDemoCompany": organisation.is_demo_company,
                        "OrganisationStatus": organisation.status,
                        "BaseCurrency": "GBP",
                        "CountryCode": "GB",
                        "Version": "UK",
                        "ShortCode": "!" + organisation.tenant_id.replace("-", "")[:5],
                    }
                ],
            }
        )

    def _bearer_user(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self._state.access_user(token.strip())
