"""The customer pages' rate limit behind a reverse proxy, and its memory under many clients."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from bot.app import create_app
from bot.cli import serve_config
from bot.domain import Dependencies
from bot.settings import Settings, SettingsError
from handlers.web.security import RateLimit, client_key
from tests.conftest import ENCRYPTION_KEY
from tests.web_fixtures import BOT, web_settings

PROXY = "10.1.2.3"


def settings_from_env(**env: str) -> Settings:
    return Settings.from_env({"TOKEN_ENCRYPTION_KEYS": ENCRYPTION_KEY, **env})


async def statuses_through_uvicorn(
    app: Starlette, settings: Settings, *, peer: str, forwarded_for: list[str]
) -> list[int]:
    """Requests as uvicorn, configured as `xero-bot serve` does, hands them to the app."""
    config = serve_config(app, host="127.0.0.1", port=8000, settings=settings)
    config.load()
    transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BOT) as client:
        return [
            (await client.get("/connect/x", headers={"X-Forwarded-For": address})).status_code
            for address in forwarded_for
        ]


async def test_behind_a_trusted_proxy_one_client_does_not_lock_out_another(
    web_deps: Dependencies,
) -> None:
    settings = settings_from_env(FORWARDED_ALLOW_IPS=PROXY, WEB_RATE_LIMIT_PER_MINUTE="3")
    app = create_app(web_settings(rate_limit=3), deps=web_deps)
    noisy, other = "198.51.100.7", "198.51.100.8"
    statuses = await statuses_through_uvicorn(
        app, settings, peer=PROXY, forwarded_for=[noisy] * 4 + [other]
    )
    assert statuses == [404, 404, 404, 429, 404]


async def test_forwarded_headers_from_anyone_else_are_ignored(
    web_deps: Dependencies,
) -> None:
    settings = settings_from_env(FORWARDED_ALLOW_IPS=PROXY)
    app = create_app(web_settings(rate_limit=3), deps=web_deps)
    statuses = await statuses_through_uvicorn(
        app, settings, peer="192.0.2.50", forwarded_for=[f"198.51.100.{n}" for n in range(4)]
    )
    assert statuses == [404, 404, 404, 429]


def test_forwarded_allow_ips_is_checked_and_none_trusts_no_proxy() -> None:
    assert settings_from_env().forwarded_allow_ips == ("127.0.0.1",)
    assert settings_from_env(FORWARDED_ALLOW_IPS="none").forwarded_allow_ips == ()
    assert settings_from_env(FORWARDED_ALLOW_IPS="10.0.0.0/8, fd00::1").forwarded_allow_ips == (
        "10.0.0.0/8",
        "fd00::1",
    )
    with pytest.raises(SettingsError, match=r"FORWARDED_ALLOW_IPS must list IP addresses.*'proxy'"):
        settings_from_env(FORWARDED_ALLOW_IPS="10.0.0.1,proxy")


def limiter(limit: int, clock: list[float], max_clients: int = 100) -> RateLimit:
    async def ok(_request: object) -> Response:
        return Response("ok")

    app = Starlette(routes=[Route("/connect/x", ok)])
    return RateLimit(app, limit=limit, clock=lambda: clock[0], max_clients=max_clients)


async def get(limit: RateLimit, address: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=limit, client=(address, 1))
    async with httpx.AsyncClient(transport=transport, base_url=BOT) as client:
        return await client.get("/connect/x")


async def test_the_limiter_remembers_a_bounded_number_of_clients() -> None:
    clock = [1000.0]
    limit = limiter(2, clock, max_clients=100)
    for n in range(1000):
        assert (await get(limit, f"203.0.{n // 250}.{n % 250}")).status_code == 200
    assert limit.remembered == 100
    assert [(await get(limit, "192.0.2.1")).status_code for _ in range(3)] == [200, 200, 429]


async def test_the_window_slides_and_retry_after_says_how_long() -> None:
    clock = [600.0]
    limit = limiter(2, clock)
    assert [(await get(limit, "192.0.2.1")).status_code for _ in range(2)] == [200, 200]
    refused = await get(limit, "192.0.2.1")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    clock[0] += 60  # the next minute: last minute's two still weigh fully
    assert (await get(limit, "192.0.2.1")).status_code == 429
    clock[0] += 30  # half of it overlaps: one of two may go
    assert (await get(limit, "192.0.2.1")).status_code == 200
    assert (await get(limit, "192.0.2.1")).status_code == 429
    clock[0] += 120
    assert (await get(limit, "192.0.2.1")).status_code == 200


def test_ipv6_clients_are_counted_per_64() -> None:
    assert client_key(("2001:db8:1:2:aaaa::1", 1)) == client_key(("2001:db8:1:2:bbbb::9", 1))
    assert client_key(("2001:db8:1:3::1", 1)) != client_key(("2001:db8:1:2::1", 1))
    assert client_key(("::ffff:192.0.2.1", 1)) == "192.0.2.1"
