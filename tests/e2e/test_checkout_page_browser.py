"""The sandbox test checkout page, driven by a real browser against the real server.

One uvicorn server (SQLite file database, sandbox gateway) and one headless Chromium
serve the whole module; each test signs up its own user, so balances start at zero.
The browser is Debian's Chromium (``CHROMIUM_PATH`` or ``chromium`` on PATH), never a
Playwright download: without it the module is skipped, or failed when ``CI=true``.
Each test leaves screenshots of the page in ``tests/artifacts/`` (gitignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from adapters.sqlalchemy.migrate import upgrade_sync
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import load_settings

pytestmark = pytest.mark.browser

ADMIN_KEY = "browser-test-admin-key"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CREDITS_FOR_10_USD = 1000
TIMEOUT_MS = 10_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if path and os.access(path, os.X_OK):
        return path
    message = (
        "no Chromium for the browser tests: install Debian's package "
        "(apt-get install -y chromium) or set CHROMIUM_PATH"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return _chromium_path()


@pytest.fixture(scope="module")
def base_url(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn on a free 127.0.0.1 port, in a background thread."""
    import uvicorn

    database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('browser') / 'creditline.db'}"
    # In a thread: Playwright's sync API may hold this thread's event loop.
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(upgrade_sync, database_url).result()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "PAYMENT_GATEWAY": "sandbox",
            "PUBLIC_URL": url,
            "ADMIN_API_KEYS": ADMIN_KEY,
        }
    )
    app = create_app(build_container(settings))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            pytest.fail("the app did not start under uvicorn")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    # Playwright's launch() gives every browser a fresh temporary user-data dir.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page in its own context; any script error or CSP violation fails the test."""
    context = browser.new_context(viewport={"width": 800, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "favicon" not in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield page
        assert problems == [], f"errors in the browser console: {problems}"
    finally:
        context.close()


@pytest.fixture
def api(base_url: str) -> Iterator[httpx.Client]:
    """A newly signed-up user's API client (Authorization set)."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.post(
            "/api/users",
            json={"email": f"buyer-{time.monotonic_ns()}@example.com"},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        assert response.status_code == 201, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['api_key']}"
        yield client


def _checkout_url(api: httpx.Client, base_url: str) -> str:
    response = api.post("/api/stripe/checkout-session", json={"amount": 1000, "currency": "usd"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["credits"] == CREDITS_FOR_10_USD
    assert body["url"].startswith(f"{base_url}/sandbox/checkout/")
    url: str = body["url"]
    return url


def _credits(api: httpx.Client) -> int:
    response = api.get("/user/balance")
    assert response.status_code == 200, response.text
    credits: int = response.json()["credits"]
    return credits


def _pay_with(page: Page, card_number: str) -> None:
    """Type the card as a customer would (expiry and CVC too) and press Pay."""
    page.locator("#card-number").fill("")
    page.locator("#card-number").press_sequentially(card_number)
    page.locator("#card-expiry").fill("12 / 34")
    page.locator("#card-cvc").fill("123")
    page.locator("#pay").click()


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"checkout-{name}.png"), full_page=True)


def test_paying_with_4242_succeeds_and_grants_the_credits(
    page: Page, api: httpx.Client, base_url: str
) -> None:
    page.goto(_checkout_url(api, base_url))
    expect(page.locator(".banner")).to_contain_text("TEST MODE")
    expect(page.locator("#amount")).to_have_text("$10.00")
    expect(page.locator("#pay")).to_have_text("Pay $10.00")
    expect(page.locator(".cards")).to_contain_text("4242 4242 4242 4242")
    _screenshot(page, "open")

    _pay_with(page, "4242 4242 4242 4242")

    expect(page.locator("#result")).to_have_text("Payment succeeded")
    expect(page.locator("#pay-form")).to_be_hidden()
    expect(page.locator("#success-link")).to_be_visible()
    _screenshot(page, "succeeded")
    assert _credits(api) == CREDITS_FOR_10_USD

    page.reload()  # a paid session says so instead of offering the form again
    expect(page.locator("#closed")).to_contain_text("already paid")
    expect(page.locator("#pay-form")).to_be_hidden()


def test_a_declined_card_shows_why_and_a_retry_on_the_same_session_pays(
    page: Page, api: httpx.Client, base_url: str
) -> None:
    page.goto(_checkout_url(api, base_url))

    _pay_with(page, "4000 0000 0000 9995")

    expect(page.locator("#result")).to_contain_text("insufficient funds")
    expect(page.locator("#result")).to_have_class("error")
    expect(page.locator("#pay")).to_be_enabled()
    _screenshot(page, "declined")
    assert _credits(api) == 0

    _pay_with(page, "4242 4242 4242 4242")

    expect(page.locator("#result")).to_have_text("Payment succeeded")
    _screenshot(page, "declined-then-paid")
    assert _credits(api) == CREDITS_FOR_10_USD


def test_the_3ds_card_asks_for_authentication_and_completing_it_pays(
    page: Page, api: httpx.Client, base_url: str
) -> None:
    page.goto(_checkout_url(api, base_url))

    _pay_with(page, "4000 0025 0000 3155")

    expect(page.locator("#three-ds")).to_be_visible()
    expect(page.locator("#auth-complete")).to_be_visible()
    _screenshot(page, "3ds")
    assert _credits(api) == 0

    answers: list[int] = []
    page.on(
        "response",
        lambda r: answers.append(r.status) if "/sandbox/authenticate/" in r.url else None,
    )
    page.locator("#auth-complete").dblclick()  # an impatient customer answers only once

    expect(page.locator("#result")).to_have_text("Payment succeeded")
    expect(page.locator("#three-ds")).to_be_hidden()
    assert answers == [200]
    _screenshot(page, "3ds-paid")
    assert _credits(api) == CREDITS_FOR_10_USD
