"""The server as `xero-bot serve` runs it: no link token, OAuth code or state in any log line."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import domain
from bot.app import create_app
from bot.cli import serve_config
from bot.common.redaction import RedactSecrets, fingerprint, redact
from bot.domain import Dependencies
from bot.logformat import UVICORN_LOGGERS, configure_logging
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.browser import free_socket
from tests.domain_helpers import AGENT, registered
from tests.web_fixtures import (
    Organisations,
    csrf_of,
    local,
    query_of,
    start_consent,
    web_settings,
)


async def broken_page(request: Request) -> Response:
    """A bug whose exception names the address it failed on, token and query included."""
    raise RuntimeError(f"cannot show {request.url}")


@contextmanager
def logging_as_serve(fmt: str) -> Iterator[io.StringIO]:
    """Logging as `xero-bot main` sets it up, into a buffer; put back afterwards."""
    root = logging.getLogger()
    saved = root.level, list(root.handlers), list(root.filters)
    uvicorn_saved = {
        name: (logging.getLogger(name).propagate, list(logging.getLogger(name).handlers))
        for name in UVICORN_LOGGERS
    }
    buffer = io.StringIO()
    configure_logging(fmt, stream=buffer)
    try:
        yield buffer
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        root.filters[:] = saved[2]
        for handler in root.handlers:
            handler.filters[:] = [f for f in handler.filters if not isinstance(f, RedactSecrets)]
        for name, (propagate, handlers) in uvicorn_saved.items():
            logger = logging.getLogger(name)
            logger.propagate, logger.handlers[:] = propagate, handlers
            logger.filters[:] = [f for f in logger.filters if not isinstance(f, RedactSecrets)]


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_whole_consent_and_a_failure_leave_no_secret_in_the_logs(
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    fmt: str,
) -> None:
    customer = await registered(web_deps, cloudpos, stores=1)
    link = await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=None, actor=AGENT
    )
    link_token = local(link.url).rsplit("/", 1)[-1]
    app = create_app(
        web_settings(),
        deps=web_deps,
        extra_routes=[Route("/connect/{token}/broken", broken_page)],
    )
    sock = free_socket()
    host, port = sock.getsockname()
    with logging_as_serve(fmt) as logged:
        server = uvicorn.Server(serve_config(app, host=host, port=port, settings=web_settings()))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:  # noqa: ASYNC110 - uvicorn has no event
                await asyncio.sleep(0.01)
            base = f"http://{host}:{port}"
            async with httpx.AsyncClient(base_url=base) as browser:
                path = local(link.url)
                authorise = await start_consent(browser, path)
                back = emulator.authorise(
                    user_id="xero-user-1",
                    tenant_ids=[organisations.standard.tenant_id],
                    redirect_uri=authorise["redirect_uri"],
                    state=authorise["state"],
                )
                returned = await browser.get(local(back))
                assert returned.status_code == 303, returned.text
                choose = await browser.get(f"{path}/organisation")
                option = choose.text.split('<option value="', 2)[-1].split('"', 1)[0]
                confirmed = await browser.post(
                    f"{path}/organisation",
                    data={"csrf_token": csrf_of(choose), "store:S001": option},
                )
                assert confirmed.status_code == 303, confirmed.text
                assert (await browser.get(f"{path}/done")).status_code == 200
                replayed = await browser.get(local(back))
                assert replayed.status_code < 500
                broken = await browser.get(f"{path}/broken?code=abc-code-123&state=st-456")
                assert broken.status_code == 500
        finally:
            server.should_exit = True
            await serving
        lines = logged.getvalue()

    secrets = {
        "link token": link_token,
        "state": authorise["state"],
        "code": query_of(back)["code"],
        "csrf token": csrf_of(choose),
        "broken code": "abc-code-123",
        "broken state": "st-456",
    }
    assert f"/connect/{fingerprint(link_token)}/organisation" in lines, lines
    assert f"state={fingerprint(authorise['state'])}" in lines, lines
    assert "unexpected error" in lines
    assert "RuntimeError: cannot show" in lines, "the traceback should be kept, redacted"
    assert lines.count("\n") > 8, lines
    for name, secret in secrets.items():
        assert secret not in lines, f"the {name} was logged"


def test_redaction_keeps_uvicorns_access_arguments_and_is_idempotent() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", "/xero/callback?code=c0de&state=s7a7e", "1.1", 303), None,
    )  # fmt: skip
    RedactSecrets().filter(record)
    assert isinstance(record.args, tuple)
    assert (
        record.args[2] == f"/xero/callback?code={fingerprint('c0de')}&state={fingerprint('s7a7e')}"
    )
    assert redact(record.getMessage()) == record.getMessage()


def test_an_api_key_keeps_its_id_and_loses_its_secret() -> None:
    secret = "YtlE3X9TpUr_uV2jFedpOT8mna7Usfv6W5FprJC7ago"
    line = redact(f"Authorization: Bearer xbk_wnjjcys6wxst_{secret} refused")
    assert secret not in line
    assert f"xbk_wnjjcys6wxst_{fingerprint(secret)} refused" in line
    assert redact(line) == line


def test_a_bearer_token_quoted_whole_is_replaced() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ"
    line = redact(f"401 from Xero; request had Authorization: Bearer {jwt}")
    assert jwt not in line
    assert line.endswith(f"Bearer {fingerprint(jwt)}")
    assert redact(line) == line
    assert redact("Bearer realm") == "Bearer realm", "short words are not tokens"
