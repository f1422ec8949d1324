"""The therapist signs in to the inbox and out, in a real browser (Debian's Chromium) against the local stack."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest
from accessibility import assert_accessible, needs_axe
from test_browser import outbox

from infra.local_stack import LOCAL_SETTINGS

THERAPIST = LOCAL_SETTINGS["NOTIFY_EMAIL"]
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}

pytestmark = [
    pytest.mark.skipif(
        shutil.which("chromium") is None, reason="Chromium is not installed: `apt-get install chromium`"
    ),
    needs_axe,
]


def newest_link(base_url: str) -> str:
    (link,) = re.findall(r"http://\S+/inbox/login/[A-Za-z0-9_-]+", outbox(base_url)[0]["text"])
    return str(link)


def request_link(page: Any, base_url: str) -> str:
    page.goto(base_url + "/inbox")
    page.fill("#email", THERAPIST)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return newest_link(base_url)


def test_the_therapist_signs_in_from_the_emailed_link_and_out(browser: Any, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )

    def check(name: str) -> None:
        # The stylesheet loads under the strict policy (40rem: its main column), and nothing was refused.
        assert page.evaluate("getComputedStyle(document.body).maxWidth") == "640px", name
        assert blocked == [], (name, blocked)
        assert_accessible(page, name)
        blocked.clear()  # the policy refuses axe's own script tag too (axe then judges a copy of the page)

    page.goto(base_url + "/inbox")
    assert page.url == base_url + "/inbox/login" and page.inner_text("h1") == "Sign in"
    check("sign-in page")
    page.fill("#email", "not an address")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "Enter your email address" in page.inner_text("main")
    check("sign-in page with an error")
    page.fill("#email", THERAPIST)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == base_url + "/inbox/check-email"
    check("check your email")

    link = newest_link(base_url)
    assert link.startswith(base_url + "/inbox/login/")
    page.goto(link)
    check("sign-in button")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == base_url + "/inbox"
    assert f"Signed in as {THERAPIST}" in page.inner_text("header")
    check("inbox")
    (session,) = [c for c in context.cookies() if c["name"] == "inbox_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert "You have signed out." in page.inner_text("main")
    check("signed out")

    page.goto(link)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "already been used" in page.inner_text("main")
    check("link refused")

    replay = browser.new_context()
    replay.add_cookies([session])
    old = replay.new_page()
    old.goto(base_url + "/inbox")
    assert old.url.startswith(base_url + "/inbox/login") and "has ended" in old.inner_text("main")
    replay.close()
    context.close()


def test_signing_in_works_on_a_phone_without_javascript(browser: Any, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(request_link(page, base_url))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").tap()
    assert f"Signed in as {THERAPIST}" in page.inner_text("header")
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1]  # nothing wider than the screen
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").tap()
    assert "You have signed out." in page.inner_text("main")
    context.close()
