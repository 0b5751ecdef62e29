"""The admin page and the API docs in headless Chromium, against the real server.

An operator signs in with an admin key, sees the liability and the chart, finds a
user who just bought credits, refunds part of the payment and adjusts the credits,
each after a confirmation, and sees the numbers and the chart follow; downloads the
payments as CSV. A user's key is refused at sign-in, a form without its CSRF token
or from another origin is refused, and the cookies are HttpOnly and SameSite=Strict.
Any console error (a CSP violation included) fails the test. Screenshots go to
``tests/artifacts/`` (gitignored). The docs page must render offline: every request
to another host is blocked and counted.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect, sync_playwright

from adapters.sqlalchemy.migrate import upgrade_sync
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import load_settings
from tests.e2e.test_checkout_page_browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    _chromium_path,
)

pytestmark = pytest.mark.browser

ADMIN_KEY = "browser-admin-page-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    _chromium_path()
    database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('admin') / 'creditline.db'}"
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(upgrade_sync, database_url).result()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = load_settings(
        {"DATABASE_URL": database_url, "PUBLIC_URL": url, "ADMIN_API_KEYS": ADMIN_KEY}
    )
    app = create_app(build_container(settings))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the app did not start under uvicorn")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """Requests to any other host are blocked and counted; console errors fail the test,
    except the browser's note of a 403 answer, which the refusal tests ask for."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    outside: list[str] = []

    def only_ours(route: Route) -> None:
        if route.request.url.startswith(base_url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_ours)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "status of 403" not in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield page
        assert outside == [], f"the page loaded from other hosts: {outside}"
        assert problems == [], f"errors in the browser console: {problems}"
    finally:
        context.close()


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"admin-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def buyer(base_url: str, amount: int) -> tuple[str, str, str]:
    """A new user who paid ``amount`` cents through the sandbox: (email, id, payment)."""
    with httpx.Client(base_url=base_url, timeout=10) as http:
        email = f"buyer-{time.monotonic_ns()}@example.com"
        user = http.post("/api/users", json={"email": email}, headers=ADMIN).json()
        auth = {"Authorization": f"Bearer {user['api_key']}"}
        body = {"amount": amount, "currency": "usd"}
        created = http.post("/api/stripe/checkout-session", json=body, headers=auth).json()
        paid = http.post(
            f"/sandbox/checkout/{created['session_id']}/pay",
            json={"card_number": "4242 4242 4242 4242", "deliver": "now"},
        )
        assert paid.status_code == 200, paid.text
        return email, user["user_id"], created["payment_id"]


def sign_in(page: Page, base_url: str, key: str = ADMIN_KEY) -> None:
    page.goto(f"{base_url}/admin/")
    expect(page).to_have_url(f"{base_url}/admin/login")
    page.get_by_label("Admin API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def number(page: Page, testid: str) -> int:
    text = page.get_by_test_id(testid).inner_text()
    return int(re.sub(r"[^0-9-]", "", text.split(" ")[0]))


def test_an_operator_refunds_adjusts_and_sees_the_numbers_follow(page: Page, base_url: str) -> None:
    sign_in(page, base_url)
    expect(page.get_by_role("heading", name="Last 30 days")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["cl_admin_session"]
    assert (session["httpOnly"], session["sameSite"], session["secure"]) == (True, "Strict", False)
    assert session["path"] == "/admin"
    liability = number(page, "liability-credits")
    chart_before = page.locator("polyline[data-series='Gross paid']").get_attribute("points")

    email, user_id, payment_id = buyer(base_url, 2500)
    page.reload()
    assert number(page, "liability-credits") == liability + 2500
    assert page.locator("polyline[data-series='Gross paid']").get_attribute("points") != (
        chart_before
    )
    shot(page, "summary-after-purchase")

    page.get_by_role("link", name="Users").click()
    page.get_by_label("Email or user id").fill(email)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=email).click()
    expect(page.get_by_test_id("balance")).to_have_text("2500")

    page.get_by_label(f"Amount to refund for {payment_id} (minor units, empty for all)").fill("500")
    page.get_by_role("button", name="Refund…").click()
    expect(page.get_by_role("heading", name="Confirm refund")).to_be_visible()
    shot(page, "confirm-refund")
    page.get_by_role("button", name="Confirm refund").click()
    expect(page.get_by_role("status")).to_have_text("Refund sent.")
    expect(page.get_by_test_id("balance")).to_have_text("2000")

    page.get_by_label("Credits (negative to take back)").fill("300")
    page.get_by_label("Reason (at least 10 characters)").fill("goodwill for ticket 77")
    page.get_by_role("button", name="Review adjustment").click()
    expect(page.get_by_role("heading", name="Confirm adjustment")).to_be_visible()
    page.get_by_role("button", name="Confirm adjustment").click()
    expect(page.get_by_role("status")).to_have_text("Credits adjusted.")
    expect(page.get_by_test_id("balance")).to_have_text("2300")
    expect(page.locator("table").last).to_contain_text("admin_adjustment")
    shot(page, "user")

    page.get_by_role("link", name="Summary").click()
    assert number(page, "liability-credits") == liability + 2300
    refunds_total = page.get_by_test_id("total-1").inner_text()
    assert refunds_total != "$0.00"
    shot(page, "summary")

    page.get_by_role("link", name="Payments").click()
    page.get_by_label("User id").fill(user_id)
    page.get_by_label("Status").select_option("partially_refunded")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody")).to_contain_text(payment_id)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0].startswith("id,user_id")
    assert payment_id in text and len(text.splitlines()) == 2
    shot(page, "payments")


def test_a_users_key_cannot_sign_in_and_forms_need_their_token(page: Page, base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        email = f"user-{time.monotonic_ns()}@example.com"
        user_key = http.post("/api/users", json={"email": email}, headers=ADMIN).json()["api_key"]
        refused = http.get("/api/admin/summary", headers={"Authorization": f"Bearer {user_key}"})
        assert refused.status_code == 403
    sign_in(page, base_url, user_key)
    expect(page.get_by_role("alert")).to_have_text("Not an operator key.")
    assert "cl_admin_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{base_url}/admin/payments")
    expect(page).to_have_url(f"{base_url}/admin/login")

    sign_in(page, base_url)
    _, user_id, _ = buyer(base_url, 1000)
    form = {"credits": "5", "reason": "no token at all", "confirmed": "yes"}
    no_token = page.request.post(f"{base_url}/admin/users/{user_id}/adjust", form=form)
    assert no_token.status == 403
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    elsewhere = page.request.post(
        f"{base_url}/admin/users/{user_id}/adjust",
        form={**form, "csrf": csrf or ""},
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status == 403
    with httpx.Client(base_url=base_url, timeout=10) as http:
        balance = http.get(f"/api/admin/users/{user_id}", headers=ADMIN).json()["balance"]
    assert balance["credits"] == 1000
    headers = page.request.get(f"{base_url}/admin/").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]


def test_the_api_docs_render_from_the_app_alone(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("creditline")
    expect(page.locator(".opblock").first).to_be_visible()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/admin/credits/adjust" in p for p in paths)
    assert len(paths) > 20
    shot(page, "docs")
