"""The customer's pages: landing, start, Xero callback, organisation choice, summary.

Each handler reads the request, calls one domain operation and renders the result; the
rules live in `bot.domain`.
"""

from __future__ import annotations

import re

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.domain import Dependencies, choice, consent, pages
from bot.domain.errors import ExternalServiceError, InvalidRequest, StoresLeftUnconnected
from bot.domain.results import ConsentView, StoreView

from .rendering import message_page, page
from .security import BrowserCookie, CsrfTokens

CUSTOMER = "customer"


def _deps(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.deps
    return deps


def _cookie(request: Request) -> BrowserCookie:
    cookie: BrowserCookie = request.app.state.browser_cookie
    return cookie


def _csrf(request: Request) -> CsrfTokens:
    csrf: CsrfTokens = request.app.state.csrf
    return csrf


def _url(request: Request, name: str, **params: str) -> str:
    return str(request.url_for(name, **params).path)


async def landing(request: Request) -> Response:
    """What the link is for. Changes nothing: link previews and scanners open links too."""
    token = request.path_params["token"]
    view = await consent.open(_deps(request), token=token)
    return _with_form(request, "landing.html", "Connect your stores to Xero", token, view)


async def start(request: Request) -> Response:
    token = request.path_params["token"]
    if refusal := await _refuse_forgery(request, token):
        return refusal
    url = await consent.start(
        _deps(request), token=token, browser_id=_cookie(request).read(request)
    )
    return RedirectResponse(url, status_code=303)


async def xero_callback(request: Request) -> Response:
    """Where Xero sends the customer back, with a code, or an error if they cancelled."""
    deps = _deps(request)
    params = request.query_params
    attempt = await consent.verify_callback(
        deps, state=params.get("state", ""), browser_id=_cookie(request).read(request)
    )
    back = _url(request, "landing", token=attempt.link_token)
    if "error" in params:
        await consent.cancel(deps, attempt=attempt, reason=_printable(params["error"])[:100])
        return message_page(
            request,
            title="Connection cancelled",
            message="You cancelled at Xero, so nothing was connected. You can start again "
            "whenever you are ready.",
            status=200,
            action_url=back,
            action_label="Back to your stores",
        )
    try:
        await consent.complete(deps, attempt=attempt, code=params.get("code", ""))
    except ExternalServiceError as error:
        return message_page(
            request,
            title="Xero did not finish connecting",
            message=f"{error.message} Your link still works.",
            status=502,
            action_url=back,
            action_label="Try again",
        )
    return RedirectResponse(_url(request, "choose", token=attempt.link_token), status_code=303)


async def choose(request: Request) -> Response:
    token = request.path_params["token"]
    if request.method == "POST":
        return await _confirm(request, token)
    view = await pages.open_choice(
        _deps(request), token=token, browser_id=_cookie(request).read(request)
    )
    if not view.awaiting_choice:
        return RedirectResponse(_url(request, "landing", token=token), status_code=303)
    if not any(option.eligible for option in view.organisations):
        return _with_form(
            request, "none_eligible.html", "No organisation can be connected", token, view
        )
    return _with_form(request, "choose.html", "Select an organisation", token, view)


async def done(request: Request) -> Response:
    outcome = await pages.finished(
        _deps(request),
        token=request.path_params["token"],
        browser_id=_cookie(request).read(request),
    )
    return page(
        request, "done.html", title=outcome.headline, summary=outcome.summary, outcome=outcome
    )


def _printable(text: str) -> str:
    """Text from Xero's redirect, safe to keep: no control or unpaired surrogate characters."""
    return "".join(c for c in text if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF)


async def health(_request: Request) -> Response:
    return Response("ok", media_type="text/plain")


async def _confirm(request: Request, token: str) -> Response:
    if refusal := await _refuse_forgery(request, token):
        return refusal
    await pages.check_browser(
        _deps(request), token=token, browser_id=_cookie(request).read(request)
    )
    form = await request.form()
    choices = _choices(form)
    leave = form.getlist("leave_unconnected") if form.get("confirm_unconnected") == "yes" else []
    deps = _deps(request)
    try:
        await choice.confirm(deps,
            token=token, choices=choices, actor=CUSTOMER, replace=True,
            leave_unconnected=[code for code in leave if isinstance(code, str)],
        )  # fmt: skip
    except StoresLeftUnconnected as left:
        view = await consent.open(deps, token=token)
        return _with_form(
            request, "choose.html", "Leave some stores unconnected?", token, view,
            chosen=choices, unconnected=left.stores, error=left.message,
        )  # fmt: skip
    except InvalidRequest as error:
        view = await consent.open(deps, token=token)
        return _with_form(
            request, "choose.html", "Select an organisation", token, view,
            status=400, error=error.message, chosen=choices,
        )  # fmt: skip
    return RedirectResponse(_url(request, "done", token=token), status_code=303)


_CONNECTION_ID = re.compile(r"[0-9]{1,9}")


def _choices(form: FormData) -> dict[str, int]:
    """Each `store:<code>` field's organisation; anything but a plain small number is refused."""
    choices: dict[str, int] = {}
    for field, value in form.multi_items():
        if not (field.startswith("store:") and isinstance(value, str) and value.strip()):
            continue
        if not _CONNECTION_ID.fullmatch(value.strip()):
            raise InvalidRequest("That choice is not one of the organisations offered.")
        choices[field.removeprefix("store:")] = int(value.strip())
    return choices


def _with_form(
    request: Request,
    template: str,
    title: str,
    token: str,
    consent: ConsentView,
    *,
    status: int = 200,
    error: str = "",
    chosen: dict[str, int] | None = None,
    unconnected: tuple[StoreView, ...] = (),
) -> HTMLResponse:
    """The page with its form; a form sent back keeps what the customer chose."""
    cookie = _cookie(request)
    browser_id = cookie.read_or_new(request)
    response = page(
        request,
        template,
        title=title,
        status=status,
        token=token,
        consent=consent,
        error=error,
        preselected=_preselected(consent) if chosen is None else chosen,
        unconnected=unconnected,
        csrf_token=_csrf(request).issue(browser_id, token),
    )
    cookie.set(response, browser_id)
    return response


def _preselected(consent: ConsentView) -> dict[str, int]:
    """Each store's current organisation, or the only eligible one when there is just one."""
    eligible = [option for option in consent.organisations if option.eligible]
    by_name = {option.tenant_name: option.connection_id for option in eligible}
    only = eligible[0].connection_id if len(eligible) == 1 else None
    chosen = {}
    for store in consent.stores:
        current = by_name.get(store.organisation_name or "")
        if current or only:
            chosen[store.code] = current or only
    return {code: connection_id for code, connection_id in chosen.items() if connection_id}


async def _refuse_forgery(request: Request, token: str) -> Response | None:
    form = await request.form()
    submitted = form.get("csrf_token")
    browser_id = _cookie(request).read(request)
    if isinstance(submitted, str) and _csrf(request).valid(submitted, browser_id, token):
        return None
    return message_page(
        request,
        title="Please reload the page",
        message="This form could not be accepted: it was not sent from the page we showed "
        "you, or your browser blocked its cookie. Open your link again and retry.",
        status=403,
        action_url=_url(request, "landing", token=token),
        action_label="Open your link again",
    )
