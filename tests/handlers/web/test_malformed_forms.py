"""Whatever a form or Xero's redirect carries, the answer is a page of ours, never a 500."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.results import ConsentLink
from tests.handlers.web.test_failures import choosing, domain_rows, link  # noqa: F401 - fixtures
from tests.web_fixtures import csrf_of, local, start_consent

ODD_TEXT = ["ünïcödé", "%00", "%ff%fe", "%ED%A0%80", "x" * 5000, ""]
FORM = {"content-type": "application/x-www-form-urlencoded"}


def form(**fields: str) -> bytes:
    """A form body as sent, values already percent-encoded (so invalid UTF-8 can be sent)."""
    return "&".join(f"{name}={value}" for name, value in fields.items()).encode()


@pytest.mark.parametrize("csrf", ODD_TEXT)
async def test_any_csrf_token_on_connect_is_a_403_page(
    link: ConsentLink,  # noqa: F811
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    csrf: str,
) -> None:
    path = local(link.url)
    await browser.get(path)
    before = await domain_rows(engine)
    answer = await browser.post(path, content=form(csrf_token=csrf), headers=FORM)
    assert answer.status_code == 403, answer.text
    assert "Please reload the page" in answer.text
    assert await domain_rows(engine) == before


@pytest.mark.parametrize("csrf", ODD_TEXT)
async def test_any_csrf_token_on_the_choice_is_a_403_page(
    choosing: str,  # noqa: F811
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    csrf: str,
) -> None:
    before = await domain_rows(engine)
    answer = await browser.post(
        f"{choosing}/organisation",
        content=form(csrf_token=csrf, **{"store:S001": "1"}),
        headers=FORM,
    )
    assert answer.status_code == 403, answer.text
    assert await domain_rows(engine) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("store:S001", "²"),
        ("store:S001", "\u0661"),
        ("store:S001", "9" * 5000),
        ("store:S001", "99999999999999999999"),
        ("store:S001", "-1"),
        ("store:S001", "%00"),
        ("store:S001", "%ff"),
        ("store:%00", "1"),
        ("store:%ff%fe", "1"),
        ("store:" + "é" * 3000, "1"),
        ("leave_unconnected", "%00"),
        ("leave_unconnected", "%ED%A0%80"),
    ],
)
async def test_a_malformed_choice_is_a_400_page_and_changes_nothing(
    choosing: str,  # noqa: F811
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    field: str,
    value: str,
) -> None:
    choose = await browser.get(f"{choosing}/organisation")
    before = await domain_rows(engine)
    body = form(csrf_token=csrf_of(choose), confirm_unconnected="yes", **{field: value})
    answer = await browser.post(f"{choosing}/organisation", content=body, headers=FORM)
    assert answer.status_code == 400, answer.text
    assert "Something went wrong" not in answer.text
    assert await domain_rows(engine) == before


@pytest.mark.parametrize("error", ["access_denied%00", "%ff%fe", "%ED%A0%80", "é" * 500])
async def test_an_odd_error_from_xero_is_a_page_not_a_500(
    link: ConsentLink,  # noqa: F811
    browser: httpx.AsyncClient,
    error: str,
) -> None:
    authorise = await start_consent(browser, local(link.url))
    answer = await browser.get(f"/xero/callback?state={authorise['state']}&error={error}")
    assert answer.status_code == 200, answer.text
    assert "Connection cancelled" in answer.text


@pytest.mark.parametrize("state", ["%00", "é" * 3000, "%ff%fe", "%ED%A0%80"])
async def test_an_odd_state_is_a_400_page(browser: httpx.AsyncClient, state: str) -> None:
    answer = await browser.get(f"/xero/callback?state={state}&code=c")
    assert answer.status_code == 400, answer.text
    assert "This sign-in cannot be completed" in answer.text
