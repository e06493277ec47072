"""Xero's identity server: the consent page, the token endpoint and revocation."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from .answers import NO_STORE, Sleep, injected_fault, invalid_client, root
from .models import ConsentError
from .state import EmulatorState
from .tokens import GrantError

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/identity/connect/authorize"
TOKEN_PATH = "/identity/connect/token"  # noqa: S105 - a path, not a password
REVOKE_PATH = "/identity/connect/revocation"
OAUTH_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state")
PKCE_PARAMS = ("code_challenge", "code_challenge_method")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


class Identity:
    def __init__(self, state: EmulatorState, sleep: Sleep, templates: Jinja2Templates) -> None:
        self._state = state
        self._sleep = sleep
        self._templates = templates

    async def authorize_page(self, request: Request) -> Response:
        params = {name: request.query_params.get(name, "") for name in OAUTH_PARAMS}
        params |= {
            name: request.query_params[name] for name in PKCE_PARAMS if name in request.query_params
        }
        user_id = request.query_params.get("user") or None
        if user_id is not None and self._state.user(user_id) is None:
            return self._consent(request, params, None, fatal="There is no such emulated user.")
        return self._consent(request, params, user_id)

    async def authorize_submit(self, request: Request) -> Response:
        async with request.form() as form:
            params = {name: str(form.get(name, "")) for name in OAUTH_PARAMS}
            params |= {name: str(form[name]) for name in PKCE_PARAMS if name in form}
            user_id = str(form.get("user", ""))
            tenant_ids = [str(value) for value in form.getlist("tenant")]
            action = form.get("action")
        if (fatal := self._request_error(params)) is not None:
            return self._consent(request, params, user_id, fatal=fatal)
        if action == "cancel":
            logger.info("Consent cancelled")
            return RedirectResponse(
                self._state.deny(redirect_uri=params["redirect_uri"], state=params["state"]), 303
            )
        if action != "allow":
            return self._consent(request, params, user_id, fatal="Choose Allow access or Cancel.")
        try:
            location = self._state.authorise(
                user_id=user_id,
                tenant_ids=tenant_ids,
                redirect_uri=params["redirect_uri"],
                state=params["state"],
                scope=params["scope"],
                code_challenge=params.get("code_challenge", ""),
                code_challenge_method=params.get("code_challenge_method", ""),
            )
        except ConsentError as error:
            return self._consent(request, params, user_id, error=str(error), ticked=tenant_ids)
        logger.info("User %s authorised %d organisation(s)", user_id, len(set(tenant_ids)))
        return RedirectResponse(location, 303)

    def _request_error(self, params: Mapping[str, str]) -> str | None:
        return self._state.authorize_request_error(
            response_type=params["response_type"],
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            code_challenge_method=params.get("code_challenge_method", ""),
        )

    def _consent(
        self,
        request: Request,
        params: dict[str, str],
        user_id: str | None,
        *,
        fatal: str | None = None,
        error: str | None = None,
        ticked: list[str] | None = None,
    ) -> Response:
        fatal = fatal or self._request_error(params)
        users = self._state.users
        user = self._state.user(user_id) if user_id else (users[0] if users else None)
        connected = (
            {c.tenant_id for c in self._state.connections_of(user.user_id)} if user else set()
        )
        context = {
            "app_name": self._state.app_name,
            "params": params,
            "scopes": params["scope"].split(),
            "users": users,
            "user": user,
            "organisations": self._state.organisations_of(user.user_id) if user else [],
            "connected": connected,
            "ticked": set(ticked or ()),
            "fatal": fatal,
            "error": error,
            "action": root(request) + AUTHORIZE_PATH,
            "home": root(request) + "/",
        }
        status = 400 if fatal or error else 200
        return self._templates.TemplateResponse(request, "authorize.html", context, status)

    async def token(self, request: Request) -> Response:
        form = await _form(request)
        self._state.token_requests.append(
            {key: value for key, value in form.items() if key != "client_secret"}
        )
        if (fault := await injected_fault(self._state, "token", self._sleep)) is not None:
            return fault
        client_id = self._client(request, form)
        if client_id is None:
            return invalid_client()
        try:
            body = self._state.token(form, client_id=client_id)
        except GrantError as error:
            logger.info("Token request refused: %s", error.error)
            answer: dict[str, str] = {"error": error.error}
            if error.description:
                answer["error_description"] = error.description
            return JSONResponse(answer, error.status, headers=NO_STORE)
        return JSONResponse(body, headers=NO_STORE)

    async def revoke(self, request: Request) -> Response:
        form = await _form(request)
        if form.get("token"):
            self._state.revocations.append(form["token"])
        if (fault := await injected_fault(self._state, "revoke", self._sleep)) is not None:
            return fault
        if self._client(request, form) is None:
            return invalid_client()
        if not form.get("token"):
            return JSONResponse({"error": "invalid_request"}, 400)
        self._state.revoke_token(form["token"])
        return Response(status_code=200)

    def _client(self, request: Request, form: Mapping[str, str]) -> str | None:
        """The authenticated client id (HTTP Basic or form body), or None."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except ValueError:
                return None
            raw_id, colon, raw_secret = decoded.partition(":")
            if not colon:
                return None
            candidates = [(unquote_plus(raw_id), unquote_plus(raw_secret)), (raw_id, raw_secret)]
        else:
            candidates = [(form.get("client_id", ""), form.get("client_secret", ""))]
        for client_id, secret in candidates:
            if form.get("client_id", client_id) == client_id and self._state.check_client(
                client_id, secret
            ):
                return client_id
        return None
