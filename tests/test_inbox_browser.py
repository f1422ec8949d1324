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


def post_message(base_url: str, name: str, message: str) -> str:
    """A visitor's message, as the website's script posts it."""
    import json
    import urllib.request

    from conftest import WEBSITE_ORIGIN

    fields = {"name": name, "email": "visitor@example.org", "preferred_contact": "email", "message": message}
    request = urllib.request.Request(
        base_url + "/contact",
        data=json.dumps({**fields, "consent": True}).encode(),
        headers={"Content-Type": "application/json", "Origin": WEBSITE_ORIGIN},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["id"])


def test_the_therapist_reads_a_message_marks_it_replied_deletes_one_and_signs_out(browser: Any, base_url: str) -> None:
    kept = post_message(base_url, "Ann Visitor", "I would like to ask about an appointment.")
    erased = post_message(base_url, "Bo Visitor", "Please delete this.")
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(request_link(page, base_url))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == base_url + "/inbox"
    assert page.get_by_role("link", name="Ann Visitor").is_visible()
    assert_accessible(page, "the list")

    with page.expect_navigation():
        page.get_by_role("link", name="Ann Visitor").click()
    assert page.url == f"{base_url}/inbox/messages/{kept}"
    assert "I would like to ask about an appointment." in page.inner_text("main")
    assert page.get_by_role("link", name="Reply by email").get_attribute("href") == (
        "mailto:visitor@example.org?subject=Re%3A%20Your%20enquiry"
    )
    assert_accessible(page, "a message")
    with page.expect_navigation():
        page.get_by_role("button", name="Mark replied").click()
    assert "Marked replied." in page.inner_text("main") and f"last changed by {THERAPIST}" in page.inner_text("main")

    page.goto(f"{base_url}/inbox/messages/{erased}")
    with page.expect_navigation():
        page.get_by_role("link", name="Delete…").click()
    assert page.inner_text("h1") == "Delete this message?"
    assert_accessible(page, "confirm delete")
    with page.expect_navigation():
        page.get_by_role("button", name="Delete for good").click()
    assert "The message has been deleted." in page.inner_text("main")
    assert page.get_by_role("link", name="Bo Visitor").count() == 0
    page.goto(base_url + "/inbox?state=replied")
    assert page.get_by_role("link", name="Ann Visitor").is_visible()
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1]  # nothing wider than the phone's screen

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert "You have signed out." in page.inner_text("main")
    page.goto(f"{base_url}/inbox/messages/{kept}")
    assert page.url.startswith(base_url + "/inbox/login")
    context.close()
