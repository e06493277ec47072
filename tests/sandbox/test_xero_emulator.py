"""The Xero emulator, driven by the bot's real `XeroClient` and by a form-filling "browser"."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.clients.xero import XeroClient
from bot.domain.errors import ExternalServiceError, XeroConnectionGone, XeroGrantRevoked
from bot.domain.ports import Organisation, TokenSet, new_code_verifier
from sandbox.xero_emulator import EmulatedOrganisation, EmulatedUser, XeroEmulator
from tests.conftest import Clock

ROOT = "http://xero.emulator"
CLIENT_ID = "emulated-client"
CLIENT_SECRET = "emulated-secret-42"
REDIRECT_URI = "https://bot.example/xero/callback"
SCOPES = ("openid", "profile", "email", "offline_access", "accounting.settings.read")


# --- a browser that reads and submits the consent page --------------------------------------


@dataclass
class Page:
    title: str = ""
    headings: list[str] = field(default_factory=list)
    form_action: str = ""
    inputs: list[dict[str, str]] = field(default_factory=list)
    options: list[tuple[str, str, bool]] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    alert: str = ""

    def checkbox(self, label: str) -> dict[str, str]:
        """The checkbox a label names, through its `for` attribute."""
        ids = [for_id for for_id, text in self.labels.items() if text == label]
        assert ids, f"no label {label!r} in {sorted(self.labels.values())}"
        (box,) = [i for i in self.inputs if i.get("id") == ids[0]]
        assert box["type"] == "checkbox"
        return box

    def checkbox_labels(self) -> list[str]:
        boxes = {i["id"] for i in self.inputs if i.get("type") == "checkbox"}
        return sorted(text for for_id, text in self.labels.items() if for_id in boxes)

    def hidden(self) -> dict[str, str]:
        return {i["name"]: i.get("value", "") for i in self.inputs if i.get("type") == "hidden"}

    def selected_user(self) -> str:
        (selected,) = [value for value, _, chosen in self.options if chosen]
        return selected


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._capture: tuple[str, dict[str, str]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and attributes.get("method") == "post":
            self.page.form_action = attributes["action"]
        elif tag == "input":
            self.page.inputs.append(attributes)
        elif tag == "button":
            self.page.buttons.append(attributes)
        if tag in ("title", "h1", "h2", "label", "option", "p", "button"):
            self._capture, self._text = (tag, attributes), []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._capture is None or self._capture[0] != tag:
            return
        text, attributes = " ".join("".join(self._text).split()), self._capture[1]
        if tag == "title":
            self.page.title = text
        elif tag in ("h1", "h2"):
            self.page.headings.append(text)
        elif tag == "label":
            self.page.labels[attributes.get("for", "")] = text
        elif tag == "option":
            self.page.options.append((attributes["value"], text, "selected" in attributes))
        elif tag == "p" and attributes.get("role") == "alert":
            self.page.alert = text
        elif tag == "button":
            self.page.buttons[-1]["text"] = text
        self._capture = None


def parse_page(html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    return parser.page


async def open_consent(
    browser: httpx.AsyncClient, client: XeroClient, *, state: str = "state-1", user: str = ""
) -> tuple[httpx.Response, Page]:
    url = urlsplit(client.authorization_url(state=state))
    assert url.path == "/identity/connect/authorize"
    target = f"{url.path}?{url.query}" + (f"&user={user}" if user else "")
    response = await browser.get(target)
    return response, parse_page(response.text)


async def submit(
    browser: httpx.AsyncClient, page: Page, *, button: str, tick: tuple[str, ...] = ()
) -> httpx.Response:
    """Press the button with id `button` after ticking the checkboxes labelled `tick`."""
    (pressed,) = [b for b in page.buttons if b.get("id") == button]
    data: dict[str, str | list[str]] = {
        **page.hidden(),
        "user": page.selected_user(),
        "tenant": [page.checkbox(label)["value"] for label in tick],
        pressed["name"]: pressed["value"],
    }
    return await browser.post(page.form_action, data=data)


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {key: values[0] for key, values in parse_qs(location.query).items()}


# --- fixtures -------------------------------------------------------------------------------


@dataclass
class World:
    emulator: XeroEmulator
    pat: EmulatedUser
    sam: EmulatedUser
    acme: EmulatedOrganisation
    beta: EmulatedOrganisation
    future: EmulatedOrganisation
    rival: EmulatedOrganisation
    client_sleeps: list[float]
    emulator_sleeps: list[float]


@pytest.fixture
def world(clock: Clock) -> World:
    emulator_sleeps: list[float] = []

    async def emulator_sleep(seconds: float) -> None:
        emulator_sleeps.append(seconds)

    emulator = XeroEmulator(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock, sleep=emulator_sleep
    )
    pat = emulator.add_user(email="pat@harbour.example", name="Pat Lee")
    sam = emulator.add_user(user_id="sam-0001", email="sam@rival.example", name="Sam Roe")
    acme = emulator.add_organisation("Acme Ltd", users=[pat.user_id])
    beta = emulator.add_organisation("Beta Cafe", plan_class="PREMIUM", users=[pat.user_id])
    future = emulator.add_organisation(
        "Future Shop", plan_class="FUTURE_PLAN", is_demo_company=True, users=[pat.user_id]
    )
    rival = emulator.add_organisation("Rival Co", plan_class="GROW", users=[sam.user_id])
    return World(emulator, pat, sam, acme, beta, future, rival, [], emulator_sleeps)


def make_client(world: World, *, root: str = ROOT, **overrides: object) -> XeroClient:
    async def record_sleep(seconds: float) -> None:
        world.client_sleeps.append(seconds)

    app = (
        world.emulator.app
        if root == ROOT
        else Starlette(routes=[Mount("/xero", world.emulator.app)])
    )
    options: dict[str, object] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "scopes": SCOPES,
        "authorize_url": f"{root}/identity/connect/authorize",
        "token_url": f"{root}/identity/connect/token",
        "revoke_url": f"{root}/identity/connect/revocation",
        "api_url": f"{root}/api",
        "transport": httpx.ASGITransport(app=app),
        "sleep": record_sleep,
        **overrides,
    }
    return XeroClient(**options)  # type: ignore[arg-type]


@pytest.fixture
async def client(world: World) -> AsyncIterator[XeroClient]:
    async with make_client(world) as xero:
        yield xero


@pytest.fixture
async def browser(world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world.emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
        yield http


async def consent(
    browser: httpx.AsyncClient, client: XeroClient, *tick: str, user: str = ""
) -> TokenSet:
    """Allow access to the organisations labelled `tick` and exchange the code."""
    _, page = await open_consent(browser, client, user=user)
    query = redirect_query(await submit(browser, page, button="allow", tick=tick))
    return await client.exchange_code(code=query["code"])


def claims(jwt: str) -> dict[str, object]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- consent page ---------------------------------------------------------------------------


async def test_consent_page_shows_app_users_and_the_users_organisations(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    response, page = await open_consent(browser, client)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Xero emulator (sandbox)" in page.title
    assert page.headings[0] == "Xero emulator (sandbox)"
    assert "Cloud POS wants access" in page.headings[1]
    assert page.labels["user"] == "Log in as"
    assert [(value, text) for value, text, _ in page.options] == [
        (world.pat.user_id, "Pat Lee (pat@harbour.example)"),
        ("sam-0001", "Sam Roe (sam@rival.example)"),
    ]
    assert page.selected_user() == world.pat.user_id
    assert page.checkbox_labels() == [
        "Acme Ltd — STANDARD",
        "Beta Cafe — PREMIUM",
        "Future Shop — FUTURE_PLAN",
    ]
    assert page.checkbox("Acme Ltd — STANDARD") == {
        "type": "checkbox",
        "id": f"tenant-{world.acme.tenant_id}",
        "name": "tenant",
        "value": world.acme.tenant_id,
    }
    assert {(b["id"], b.get("name"), b.get("value"), b["text"]) for b in page.buttons} >= {
        ("allow", "action", "allow", "Allow access"),
        ("cancel", "action", "cancel", "Cancel"),
    }
    assert page.form_action == "/identity/connect/authorize"
    assert page.hidden() == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": " ".join(SCOPES),
        "state": "state-1",
    }


async def test_user_query_parameter_logs_in_as_another_user(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client, user="sam-0001")

    assert page.selected_user() == "sam-0001"
    assert page.checkbox_labels() == ["Rival Co — GROW"]


async def test_consent_page_escapes_organisation_names(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    world.emulator.add_organisation("<script>alert('x')</script> Ltd", users=[world.pat.user_id])

    response, page = await open_consent(browser, client)
    status = await browser.get("/")

    for html in (response.text, status.text):
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
    assert "<script>alert('x')</script> Ltd — STANDARD" in page.checkbox_labels()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_id": "someone-else"}, "Unknown client_id"),
        ({"redirect_uri": ""}, "redirect_uri"),
        ({"response_type": "token"}, "response_type"),
    ],
)
async def test_malformed_authorisation_requests_get_a_400_page(
    browser: httpx.AsyncClient, change: dict[str, str], message: str
) -> None:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s",
        **change,
    }

    response = await browser.get("/identity/connect/authorize", params=params)

    assert response.status_code == 400
    page = parse_page(response.text)
    assert message in page.alert
    assert not page.buttons


async def test_allow_without_an_organisation_re_renders_with_an_error(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client)

    response = await submit(browser, page, button="allow")

    assert response.status_code == 400
    again = parse_page(response.text)
    assert "Tick at least one organisation" in again.alert
    assert again.hidden()["state"] == "state-1"
    assert world.emulator.connections_of(world.pat.user_id) == []


async def test_cancel_redirects_with_access_denied_and_the_state(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client, state="keep-me")

    query = redirect_query(
        await submit(browser, page, button="cancel", tick=("Acme Ltd — STANDARD",))
    )

    assert query == {"error": "access_denied", "state": "keep-me"}
    assert world.emulator.connections_of(world.pat.user_id) == []


# --- code exchange and connections ----------------------------------------------------------


async def test_full_consent_gives_a_token_set_for_the_user_and_auth_event(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client, state="link-42")
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )
    assert query["state"] == "link-42"
    assert query["scope"] == " ".join(SCOPES)

    tokens = await client.exchange_code(code=query["code"])

    assert tokens.xero_user_id == world.pat.user_id
    assert tokens.user_email == "pat@harbour.example"
    assert tokens.user_name == "Pat Lee"
    assert tokens.scopes == SCOPES
    (connection,) = world.emulator.connections_of(world.pat.user_id)
    assert tokens.auth_event_id == connection.auth_event_id
    access = claims(tokens.access_token)
    assert access["client_id"] == CLIENT_ID
    assert access["scope"] == list(SCOPES)
    assert access["exp"] == int(world.emulator.clock().timestamp()) + 1800
    sent = world.emulator.token_requests[-1]
    assert sent["grant_type"] == "authorization_code"
    assert sent["redirect_uri"] == REDIRECT_URI
    assert "client_secret" not in sent


async def test_connections_by_auth_event_are_only_this_consents_tenants(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    first = await consent(browser, client, "Acme Ltd — STANDARD")
    second = await consent(browser, client, "Beta Cafe — PREMIUM", "Future Shop — FUTURE_PLAN")

    just_added = await client.connections(
        access_token=second.access_token, auth_event_id=second.auth_event_id
    )
    everything = await client.connections(access_token=second.access_token)

    assert first.auth_event_id != second.auth_event_id
    assert sorted(c.tenant_name for c in just_added) == ["Beta Cafe", "Future Shop"]
    assert {c.auth_event_id for c in just_added} == {second.auth_event_id}
    assert sorted(c.tenant_name for c in everything) == ["Acme Ltd", "Beta Cafe", "Future Shop"]
    assert {c.tenant_type for c in everything} == {"ORGANISATION"}


async def test_reconsenting_a_tenant_keeps_its_connection_and_moves_it_to_the_new_event(
    world: World, client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    await consent(browser, client, "Acme Ltd — STANDARD")
    (before,) = world.emulator.connections_of(world.pat.user_id)
    clock.advance(minutes=10)

    again = await consent(browser, client, "Acme Ltd — STANDARD")

    (after,) = world.emulator.connections_of(world.pat.user_id)
    assert (after.id, after.created) == (before.id, before.created)
    assert after.updated == clock.now > before.updated
    assert after.auth_event_id == again.auth_event_id != before.auth_event_id
    response, page = await open_consent(browser, client)
    assert "(already connected)" in response.text
    assert page.checkbox_labels()[0] == "Acme Ltd — STANDARD"


async def test_an_authorisation_code_is_single_use(
    client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )
    await client.exchange_code(code=query["code"])

    with pytest.raises(XeroGrantRevoked):
        await client.exchange_code(code=query["code"])


async def allowed_with_pkce(
    client: XeroClient, browser: httpx.AsyncClient, verifier: str
) -> dict[str, str]:
    """Consent through the emulator's page to a request carrying the S256 challenge."""
    url = urlsplit(client.authorization_url(state="pkce", code_verifier=verifier))
    page = parse_page((await browser.get(f"{url.path}?{url.query}")).text)
    return redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )


async def test_a_pkce_code_exchanges_with_its_verifier(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    verifier = new_code_verifier()
    query = await allowed_with_pkce(client, browser, verifier)

    tokens = await client.exchange_code(code=query["code"], code_verifier=verifier)
    assert tokens.xero_user_id == world.pat.user_id


@pytest.mark.parametrize("sent", ["", "another-verifier-" + "x" * 40])
async def test_a_pkce_code_is_refused_without_its_verifier(
    client: XeroClient, browser: httpx.AsyncClient, sent: str
) -> None:
    query = await allowed_with_pkce(client, browser, new_code_verifier())

    with pytest.raises(XeroGrantRevoked):
        await client.exchange_code(code=query["code"], code_verifier=sent or None)


async def test_only_the_s256_challenge_method_is_accepted(
    client: XeroClient, browser: httpx.AsyncClient
) -> None:
    url = urlsplit(client.authorization_url(state="plain", code_verifier=new_code_verifier()))
    page = await browser.get(f"{url.path}?{url.query.replace('S256', 'plain')}")
    assert page.status_code == 400
    assert "code_challenge_method" in page.text


async def test_an_authorisation_code_expires_after_five_minutes(
    client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )
    clock.advance(minutes=5)

    with pytest.raises(XeroGrantRevoked):
        await client.exchange_code(code=query["code"])


async def test_an_authorisation_code_is_bound_to_its_redirect_uri(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )

    async with make_client(world, redirect_uri="https://elsewhere.example/cb") as other:
        with pytest.raises(XeroGrantRevoked):
            await other.exchange_code(code=query["code"])
    assert (await client.exchange_code(code=query["code"])).xero_user_id == world.pat.user_id


async def test_a_bad_client_secret_is_invalid_client(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )

    async with make_client(world, client_secret="wrong-secret") as wrong:
        with pytest.raises(ExternalServiceError, match="invalid_client") as caught:
            await wrong.exchange_code(code=query["code"])

    assert caught.value.retryable is False
    assert world.client_sleeps == []


async def test_token_endpoint_accepts_credentials_in_the_form_body(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    form = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}

    good = await browser.post(
        "/identity/connect/token", data={**form, "refresh_token": tokens.refresh_token}
    )
    unknown = await browser.post(
        "/identity/connect/token", data={**form, "refresh_token": "never-issued"}
    )
    wrong = await browser.post(
        "/identity/connect/token",
        data={**form, "client_secret": "nope", "refresh_token": tokens.refresh_token},
    )

    assert good.status_code == 200
    assert set(good.json()) == {
        "access_token",
        "refresh_token",
        "expires_in",
        "token_type",
        "scope",
    }
    assert good.json()["token_type"] == "Bearer"
    assert good.json()["expires_in"] == 1800
    assert (unknown.status_code, unknown.json()) == (400, {"error": "invalid_grant"})
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})


# --- refresh and revocation -----------------------------------------------------------------


async def test_refresh_rotates_and_keeps_user_and_auth_event(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    first = await consent(browser, client, "Acme Ltd — STANDARD")

    second = await client.refresh(refresh_token=first.refresh_token)
    third = await client.refresh(refresh_token=second.refresh_token)

    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert second.access_token != first.access_token
    assert {second.xero_user_id, third.xero_user_id} == {world.pat.user_id}
    assert second.auth_event_id == third.auth_event_id == first.auth_event_id
    assert world.emulator.token_requests[-1]["grant_type"] == "refresh_token"
    assert world.emulator.token_requests[-1]["refresh_token"] == second.refresh_token


async def test_a_rotated_refresh_token_works_within_the_grace_period(
    client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    first = await consent(browser, client, "Acme Ltd — STANDARD")
    second = await client.refresh(refresh_token=first.refresh_token)
    clock.advance(minutes=29)

    retried = await client.refresh(refresh_token=first.refresh_token)
    retried_again = await client.refresh(refresh_token=first.refresh_token)

    assert retried.refresh_token not in (first.refresh_token, second.refresh_token)
    assert retried_again.refresh_token != retried.refresh_token
    assert (await client.refresh(refresh_token=retried.refresh_token)).refresh_token


async def test_a_rotated_refresh_token_is_refused_after_the_grace_period(
    client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    first = await consent(browser, client, "Acme Ltd — STANDARD")
    second = await client.refresh(refresh_token=first.refresh_token)
    clock.advance(minutes=30, seconds=1)

    with pytest.raises(XeroGrantRevoked):
        await client.refresh(refresh_token=first.refresh_token)
    assert (await client.refresh(refresh_token=second.refresh_token)).refresh_token


async def test_concurrent_refreshes_of_one_token_are_all_answered_consistently(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")

    renewed = await asyncio.gather(
        *(client.refresh(refresh_token=tokens.refresh_token) for _ in range(8))
    )

    assert len({r.refresh_token for r in renewed}) == 8
    assert {r.auth_event_id for r in renewed} == {tokens.auth_event_id}
    assert world.client_sleeps == []


async def test_an_expired_access_token_is_refused(
    client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    clock.advance(minutes=30)

    with pytest.raises(XeroConnectionGone):
        await client.connections(access_token=tokens.access_token)
    with pytest.raises(XeroConnectionGone):
        await client.connections(access_token="not-a-token-the-emulator-issued")


async def test_revoke_kills_refresh_tokens_and_removes_every_connection(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    await consent(browser, client, "Acme Ltd — STANDARD")
    tokens = await consent(browser, client, "Beta Cafe — PREMIUM")
    rotated = await client.refresh(refresh_token=tokens.refresh_token)
    assert "Beta Cafe" in (await browser.get("/")).text

    await client.revoke(refresh_token=rotated.refresh_token)

    assert world.emulator.revocations == [rotated.refresh_token]
    for refresh_token in (tokens.refresh_token, rotated.refresh_token):
        with pytest.raises(XeroGrantRevoked):
            await client.refresh(refresh_token=refresh_token)
    assert await client.connections(access_token=rotated.access_token) == []
    assert world.emulator.connections_of(world.pat.user_id) == []
    status = await browser.get("/")
    assert "No connections." in status.text
    with pytest.raises(XeroConnectionGone):
        await client.organisation(access_token=rotated.access_token, tenant_id=world.beta.tenant_id)


async def test_the_user_removing_the_app_in_xero_revokes_the_grant(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")

    world.emulator.revoke_user(world.pat.user_id)

    with pytest.raises(XeroGrantRevoked):
        await client.refresh(refresh_token=tokens.refresh_token)
    again = await consent(browser, client, "Acme Ltd — STANDARD")
    assert (await client.refresh(refresh_token=again.refresh_token)).refresh_token


# --- connections and organisations ----------------------------------------------------------


async def test_delete_connection_removes_only_that_tenant_once(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD", "Beta Cafe — PREMIUM")
    acme = next(c for c in await client.connections(access_token=tokens.access_token)
                if c.tenant_id == world.acme.tenant_id)  # fmt: skip

    assert await client.delete_connection(access_token=tokens.access_token, connection_id=acme.id)
    assert not await client.delete_connection(
        access_token=tokens.access_token, connection_id=acme.id
    )
    remaining = await client.connections(access_token=tokens.access_token)
    assert [c.tenant_name for c in remaining] == ["Beta Cafe"]
    assert (await client.refresh(refresh_token=tokens.refresh_token)).refresh_token


async def test_another_users_connection_cannot_be_deleted(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    pat = await consent(browser, client, "Acme Ltd — STANDARD")
    sam = await consent(browser, client, "Rival Co — GROW", user="sam-0001")
    (rival,) = await client.connections(access_token=sam.access_token)

    assert not await client.delete_connection(access_token=pat.access_token, connection_id=rival.id)
    assert await client.connections(access_token=sam.access_token) == [rival]


async def test_organisation_reports_plan_classes_including_unknown_ones(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD", "Future Shop — FUTURE_PLAN")

    acme = await client.organisation(
        access_token=tokens.access_token, tenant_id=world.acme.tenant_id
    )
    future = await client.organisation(
        access_token=tokens.access_token, tenant_id=world.future.tenant_id
    )

    assert acme == Organisation("Acme Ltd", "STANDARD", "BUSINESS", False, "ACTIVE")
    assert future == Organisation("Future Shop", "FUTURE_PLAN", "BUSINESS", True, "ACTIVE")
    raw = await browser.get(
        "/api/api.xro/2.0/Organisation",
        headers={
            "Authorization": f"Bearer {tokens.access_token}",
            "xero-tenant-id": world.acme.tenant_id,
        },
    )
    (body,) = raw.json()["Organisations"]
    assert body["OrganisationID"] == world.acme.tenant_id
    assert (body["BaseCurrency"], body["CountryCode"]) == ("GBP", "GB")
    assert body["ShortCode"].startswith("!")


async def test_organisation_of_a_tenant_not_connected_is_connection_gone(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")

    for tenant in (world.beta, world.rival):
        with pytest.raises(XeroConnectionGone):
            await client.organisation(access_token=tokens.access_token, tenant_id=tenant.tenant_id)
    raw = await browser.get(
        "/api/api.xro/2.0/Organisation",
        headers={
            "Authorization": f"Bearer {tokens.access_token}",
            "xero-tenant-id": world.beta.tenant_id,
        },
    )
    assert raw.status_code == 403
    assert raw.json()["Title"] == "Forbidden"
    assert raw.json()["Detail"] == "AuthenticationUnsuccessful"


# --- fault injection ------------------------------------------------------------------------


async def test_a_429_is_waited_out_for_retry_after_seconds(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("organisation", status=429, retry_after=2)

    organisation = await client.organisation(
        access_token=tokens.access_token, tenant_id=world.acme.tenant_id
    )

    assert organisation.name == "Acme Ltd"
    assert world.client_sleeps == [2]


async def test_a_429_carries_xeros_rate_limit_headers(
    world: World, browser: httpx.AsyncClient
) -> None:
    world.emulator.fail_next("connections", status=429, retry_after=7, times=2)

    first = await browser.get("/api/connections")
    second = await browser.get("/api/connections")
    third = await browser.get("/api/connections")

    for response in (first, second):
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.headers["X-Rate-Limit-Problem"] == "minute"
    assert third.status_code == 401
    assert third.json()["Title"] == "Unauthorized"


async def test_persistent_5xx_gives_up_with_a_retryable_error(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("connections", status=503, times=10)

    with pytest.raises(ExternalServiceError) as caught:
        await client.connections(access_token=tokens.access_token)

    assert caught.value.retryable is True
    assert world.client_sleeps == [0.5, 1.0, 2.0]


async def test_a_lost_refresh_answer_is_retried_with_the_same_token(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("token", status=502)

    renewed = await client.refresh(refresh_token=tokens.refresh_token)

    sent = [r["refresh_token"] for r in world.emulator.token_requests[-2:]]
    assert sent == [tokens.refresh_token, tokens.refresh_token]
    assert renewed.refresh_token != tokens.refresh_token
    assert world.client_sleeps == [0.5]


async def test_faults_on_revoke_and_delete_count_down(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    (connection,) = await client.connections(access_token=tokens.access_token)
    world.emulator.fail_next("delete", status=500)
    world.emulator.fail_next("revoke", status=503, times=2)

    deleted = await client.delete_connection(
        access_token=tokens.access_token, connection_id=connection.id
    )
    await client.revoke(refresh_token=tokens.refresh_token)

    assert deleted is True
    assert world.emulator.revocations == [tokens.refresh_token] * 3
    assert world.client_sleeps == [0.5, 0.5, 1.0]
    with pytest.raises(XeroGrantRevoked):
        await client.refresh(refresh_token=tokens.refresh_token)


async def test_a_delay_is_awaited_before_answering(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("connections", status=503, delay=1.0)
    world.emulator.fail_next("connections", status=200, delay=7.5)

    slow = await client.connections(access_token=tokens.access_token)

    assert [c.tenant_name for c in slow] == ["Acme Ltd"]
    assert world.emulator_sleeps == [1.0, 7.5]
    assert world.client_sleeps == [0.5]


def test_fail_next_rejects_nonsense(world: World) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        world.emulator.fail_next("authorize")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        world.emulator.fail_next("token", times=0)


# --- mounting, status page, logs ------------------------------------------------------------


async def test_the_emulator_works_mounted_under_a_prefix(world: World) -> None:
    root = f"{ROOT}/xero"
    mounted = Starlette(routes=[Mount("/xero", world.emulator.app)])
    async with (
        make_client(world, root=root) as xero,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=mounted), base_url=ROOT) as http,
    ):
        url = urlsplit(xero.authorization_url(state="mounted"))
        page = parse_page((await http.get(f"{url.path}?{url.query}")).text)
        assert page.form_action == "/xero/identity/connect/authorize"
        query = redirect_query(
            await submit(http, page, button="allow", tick=("Acme Ltd — STANDARD",))
        )
        tokens = await xero.exchange_code(code=query["code"])
        (connection,) = await xero.connections(access_token=tokens.access_token)
        status = (await http.get("/xero/")).text

    assert connection.tenant_id == world.acme.tenant_id
    assert f"XERO_TOKEN_URL={root}/identity/connect/token" in status
    assert f"XERO_API_URL={root}/api" in status


async def test_status_page_lists_users_organisations_and_connections(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    await consent(browser, client, "Future Shop — FUTURE_PLAN")

    response = await browser.get("/")

    assert response.status_code == 200
    html = response.text
    assert "Xero emulator (sandbox)" in html
    for text in ("Pat Lee", "sam@rival.example", "Rival Co", "GROW", "FUTURE_PLAN", CLIENT_ID):
        assert text in html
    (connection,) = world.emulator.connections_of(world.pat.user_id)
    assert connection.id in html
    assert CLIENT_SECRET not in html


async def test_no_token_or_secret_is_logged(
    world: World, client: XeroClient, browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )
    tokens = await client.exchange_code(code=query["code"])
    renewed = await client.refresh(refresh_token=tokens.refresh_token)
    world.emulator.fail_next("token", status=503)
    await client.refresh(refresh_token=renewed.refresh_token)
    await client.revoke(refresh_token=renewed.refresh_token)

    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert any(record.name.startswith("sandbox.") for record in caplog.records)
    for secret in (query["code"], tokens.access_token, tokens.refresh_token, CLIENT_SECRET,
                   renewed.access_token, renewed.refresh_token):  # fmt: skip
        assert secret not in logged
    assert repr(world.emulator).count(CLIENT_SECRET) == 0


# --- the status page's switches: faults and "disconnect this app" ---------------------------


async def test_the_status_pages_disconnect_removes_the_app_from_that_organisation_only(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD", "Beta Cafe — PREMIUM")
    page = (await browser.get("/")).text
    assert "Disconnect Cloud POS from Acme Ltd" in page

    pressed = await browser.post("/controls/disconnect", data={"tenant_id": world.acme.tenant_id})

    assert pressed.status_code == 303
    assert pressed.headers["location"] == "/"
    left = await client.connections(access_token=tokens.access_token)
    assert [c.tenant_name for c in left] == ["Beta Cafe"]
    with pytest.raises(XeroConnectionGone):
        await client.organisation(access_token=tokens.access_token, tenant_id=world.acme.tenant_id)
    page = (await browser.get("/")).text
    assert "Disconnect Cloud POS from Acme Ltd" not in page
    assert "Disconnect Cloud POS from Beta Cafe" in page
    again = await browser.post("/controls/disconnect", data={"tenant_id": world.acme.tenant_id})
    assert again.status_code == 400
    assert again.text == "Bad request: the app is not connected to that organisation"


async def test_the_status_pages_fault_switches_answer_429_then_5xx_then_normally(
    world: World, browser: httpx.AsyncClient
) -> None:
    for fault in (
        {"endpoint": "connections", "status": "429", "times": "1", "retry_after": "3"},
        {"endpoint": "connections", "status": "503", "times": "1", "delay": "0.25"},
    ):
        added = await browser.post("/controls/faults", data=fault)
        assert added.status_code == 303
    page = (await browser.get("/")).text
    assert "No faults" not in page
    assert "<td>connections</td><td>429</td><td>1</td>" in page

    answers = [await browser.get("/api/connections") for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 503, 401]
    assert answers[0].headers["retry-after"] == "3"
    assert world.emulator_sleeps == [0.25]
    assert "No faults: Xero answers normally." in (await browser.get("/")).text


async def test_a_slow_only_fault_delays_a_normal_answer_and_clear_removes_faults(
    world: World, browser: httpx.AsyncClient
) -> None:
    slow = {"endpoint": "token", "status": "200", "times": "2", "delay": "1.5"}
    assert (await browser.post("/controls/faults", data=slow)).status_code == 303
    answer = await browser.post("/identity/connect/token", data={"grant_type": "password"})
    assert answer.status_code == 401  # handled normally (no client credentials), after the delay
    assert world.emulator_sleeps == [1.5]
    assert "<td>token</td><td>normal, slow</td><td>1</td>" in (await browser.get("/")).text

    assert (await browser.post("/controls/faults/clear")).status_code == 303

    assert world.emulator.pending_faults() == []
    await browser.post("/identity/connect/token", data={"grant_type": "password"})
    assert world.emulator_sleeps == [1.5]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"endpoint": "authorize", "status": "429"}, "endpoint must be one of"),
        ({"endpoint": "token", "status": "418"}, "status must be one the form offers"),
        ({"endpoint": "token", "status": "503", "times": "0"}, "times must be from 1 to 100"),
        ({"endpoint": "token", "status": "503", "delay": "nan"}, "delay must be from 0 to 60"),
    ],
)
async def test_the_fault_switch_refuses_a_form_the_page_never_sends(
    world: World, browser: httpx.AsyncClient, form: dict[str, str], error: str
) -> None:
    answer = await browser.post("/controls/faults", data=form)

    assert answer.status_code == 400
    assert error in answer.text
    assert world.emulator.pending_faults() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://elsewhere.example"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": ROOT, "Sec-Fetch-Site": "same-site"},
    ],
)
async def test_the_switches_refuse_a_form_from_another_site(
    world: World, browser: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    answer = await browser.post(
        "/controls/faults", data={"endpoint": "token", "status": "503"}, headers=headers
    )

    assert answer.status_code == 403
    assert world.emulator.pending_faults() == []
