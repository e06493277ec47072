"""The API's endpoints: parse, call one domain operation, answer JSON."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from bot.domain import Dependencies, sync, sync_events, sync_problems
from bot.domain.api_keys import Caller, UsageCounter
from bot.domain.errors import DomainError
from bot.domain.sync import SyncStatus

from ._json import clean_text, is_clean, json_object, json_response
from .auth import caller_of
from .problems import ApiProblem, from_domain, invalid, problem_response

log = logging.getLogger(__name__)

MAX_GROUP = 200
MAX_CODE = 100
MAX_CURSOR = 40
MAX_DETAIL = sync_problems.MAX_DETAIL
MAX_WHOLE = 2**53 - 1  # the largest whole number every JSON reader holds exactly

__all__ = ["Api", "json_response"]


@dataclass(frozen=True)
class Api:
    deps: Callable[[], Dependencies]
    usage: UsageCounter
    on_broken: Callable[[Dependencies], Awaitable[object]] | None = None

    async def stores(self, request: Request) -> Response:
        async def work(deps: Dependencies, _caller: Caller) -> Response:
            query = request.query_params
            status = _status(query.get("status"))
            cursor = query.get("cursor")
            if cursor is not None and not is_clean(cursor, limit=MAX_CURSOR):
                raise invalid("cursor is not one this API gave.", field="cursor")
            limit = _whole(query.get("limit"), "limit", default=sync.PAGE_SIZE)
            page = await sync.stores(deps, status=status, cursor=cursor, limit=limit)
            return json_response(page)

        return await self._answer(request, work, query=("status", "cursor", "limit"))

    async def store(self, request: Request) -> Response:
        async def work(deps: Dependencies, _caller: Caller) -> Response:
            group, code = _named(request)
            return json_response(await sync.store(deps, group=group, store_code=code))

        return await self._answer(request, work)

    async def token(self, request: Request) -> Response:
        async def work(deps: Dependencies, _caller: Caller) -> Response:
            group, code = _named(request)
            found = await sync.token(deps, group=group, store_code=code)
            return json_response(
                {
                    "access_token": found.access_token,
                    "tenant_id": found.tenant_id,
                    "expires_at": found.expires_at,
                }
            )

        return await self._answer(request, work)

    async def problem(self, request: Request) -> Response:
        async def work(deps: Dependencies, caller: Caller) -> Response:
            group, code = _named(request)
            body = await json_object(request)
            kind, detail = body.get("kind"), body.get("detail", "")
            if not isinstance(kind, str):
                kinds = ", ".join(member.value for member in sync_problems.ProblemKind)
                raise invalid(f"kind is required: one of {kinds}.", field="kind")
            if not isinstance(detail, str) or len(detail) > MAX_DETAIL:
                raise invalid(
                    f"detail must be text of at most {MAX_DETAIL} characters.", field="detail"
                )
            received = await sync_problems.report_problem(
                deps,
                group=group,
                store_code=code,
                kind=kind,
                detail=clean_text(detail, limit=MAX_DETAIL),
                reporter=f"api:{caller.name}",
            )
            response = json_response(
                {
                    "check": received.check,
                    "status": received.status,
                    "broken": received.broken,
                }
            )
            if received.broken and self.on_broken is not None:
                response.background = BackgroundTask(self._alert, deps)
            return response

        return await self._answer(request, work)

    async def events(self, request: Request) -> Response:
        async def work(deps: Dependencies, _caller: Caller) -> Response:
            after = _whole(request.query_params.get("after"), "after", default=0, least=0)
            limit = _whole(request.query_params.get("limit"), "limit", default=100)
            page = await sync_events.feed(deps, after=after, limit=limit)
            return json_response({"events": list(page.events), "last_id": page.last_id})

        return await self._answer(request, work, query=("after", "limit"))

    async def _answer(
        self,
        request: Request,
        work: Callable[[Dependencies, Caller], Awaitable[Response]],
        *,
        query: tuple[str, ...] = (),
    ) -> Response:
        """Authenticate, refuse query parameters the route does not take (a misspelt one
        would otherwise be ignored), then `work`."""
        deps = self.deps()
        try:
            caller = await caller_of(request, deps, self.usage)
            _only(request, query)
            return await work(deps, caller)
        except ApiProblem as problem:
            return problem_response(problem)
        except DomainError as error:
            return problem_response(from_domain(error))

    async def _alert(self, deps: Dependencies) -> None:
        assert self.on_broken is not None
        try:
            await self.on_broken(deps)
        except Exception:
            log.exception("could not alert the helpdesk after a reported problem")


def _only(request: Request, names: tuple[str, ...]) -> None:
    unknown = sorted(set(request.query_params) - set(names))
    if unknown:
        name = clean_text(unknown[0], limit=40)
        takes = f"it takes {', '.join(names)}" if names else "it takes none"
        raise invalid(f"{name!r} is not a query parameter of this route: {takes}.", field=name)


def _named(request: Request) -> tuple[str, str]:
    group, code = request.path_params["group"], request.path_params["store_code"]
    if not (is_clean(group, limit=MAX_GROUP) and is_clean(code, limit=MAX_CODE)):
        raise ApiProblem(
            404,
            "Not found",
            "There is no such store: a group is at most 200 characters, a store code 100, "
            "without control characters.",
        )
    return group, code


def _status(value: str | None) -> SyncStatus | None:
    if value is None:
        return None
    try:
        return SyncStatus(value)
    except ValueError:
        names = ", ".join(status.value for status in SyncStatus)
        raise invalid(f"status must be one of {names}.", field="status") from None


def _whole(value: str | None, name: str, *, default: int, least: int = 1) -> int:
    if value is None:
        return default
    digits = value.isascii() and value.isdigit() and len(value) <= len(str(MAX_WHOLE))
    if not digits or not least <= int(value) <= MAX_WHOLE:
        raise invalid(f"{name} must be a whole number from {least} to {MAX_WHOLE}.", field=name)
    return int(value)
