"""What the Xero emulator's tests share: a form-filling "browser", the world, a real client."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.clients.xero import XeroClient
from bot.domain.ports import TokenSet
from sandbox.xero_emulator import EmulatedOrganisation, EmulatedUser, XeroEmulator

ROOT = "http://xero.emulator"
CLIENT_ID = "emulated-client"
CLIENT_SECRET = "emulated-secret-42"
REDIRECT_URI = "https://bot.example/xero/callback"
SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.settings.read",
    "accounting.contacts.read",
)


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


# --- the world the tests start from ---------------------------------------------------------


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


# --- the Accounting API, called as the bot's client calls it --------------------------------

API = "/api/api.xro/2.0"
FIXED_TENANT = "3f1c2a9e-5b7d-4e2f-9a10-7c6b5d4e3f21"
"""A tenant id that is the same in every run, for what the seeded books must contain."""


def api_headers(access_token: str, tenant_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}", "xero-tenant-id": tenant_id}


async def api_get(
    browser: httpx.AsyncClient,
    path: str,
    tokens: TokenSet,
    tenant_id: str,
    **params: str,
) -> httpx.Response:
    """GET `{API}/{path}` for `tenant_id` with the tokens' access token, as the client does."""
    return await browser.get(
        f"{API}/{path}", params=params, headers=api_headers(tokens.access_token, tenant_id)
    )
