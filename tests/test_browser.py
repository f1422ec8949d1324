"""The website's page in a real browser (Debian's Chromium, driven by Playwright) against the local stack."""

from __future__ import annotations

import json
import shutil
import urllib.request
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Chromium is not installed: `apt-get install chromium` (Debian's package; .ci/run installs it)",
)


def outbox(base_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(base_url + "/dev/outbox", timeout=10) as response:
        return json.load(response)["emails"]


def open_and_fill(browser: Any, base_url: str, name: str, email: str, message: str) -> Any:
    """The example page, once its form is ready, with the contact form filled in and consent given."""
    page = browser.new_page()
    page.goto(base_url + "/")
    page.wait_for_selector("#consent-text:not(:empty)")
    page.fill("#name", name)
    page.fill("#email", email)
    page.fill("#message", message)
    page.check("#consent")
    return page


def test_a_visitor_reads_the_article_and_sends_a_message(browser, base_url: str) -> None:
    page = browser.new_page()
    page.goto(base_url + "/")
    page.wait_for_selector("#article h2")
    assert page.inner_text("#article h1").startswith("What Is Psychodynamic Therapy?")
    assert "depth-oriented approach to psychotherapy" in page.inner_text("#article")
    assert "not monitored for emergencies" in page.inner_text("#crisis-notice")
    form = page.locator("#contact-form")
    form.locator("#name").fill("Zoë Ærø")
    form.locator("#email").fill("zoe@example.org")
    form.locator("#message").fill("I would like to book a first session.\nEvenings suit me.")
    form.locator("#consent").check()
    form.locator("button[type=submit]").click()
    page.wait_for_function("document.querySelector('[data-status]').textContent.startsWith('Thank you')")
    assert "988" in form.locator("[data-notice]").inner_text()
    assert form.locator("#message").input_value() == ""  # sent: the form is cleared
    (alert,) = outbox(base_url)
    assert alert["subject"] == "New enquiry from Zoë Ærø"
    assert "Evenings suit me." in alert["text"]
    page.close()


def test_a_bad_email_shows_its_field_error_and_keeps_the_text(browser, base_url: str) -> None:
    page = open_and_fill(browser, base_url, "Sam", "sam-at-example", "Please keep this text if something goes wrong.")
    page.click("#contact-form button[type=submit]")
    error = page.locator('[data-error-for="email"]')
    error.wait_for()
    page.wait_for_function("document.querySelector('[data-error-for=email]').textContent.length > 0")
    assert error.inner_text() == "Please enter a valid email address."
    assert page.get_attribute("#email", "aria-invalid") == "true"
    assert page.input_value("#message") == "Please keep this text if something goes wrong."
    assert outbox(base_url) == []
    page.close()


def test_a_double_click_sends_one_message(browser, base_url: str) -> None:
    page = open_and_fill(browser, base_url, "Robin", "robin@example.org", "Clicked twice by mistake.")
    page.dblclick("#contact-form button[type=submit]")
    page.wait_for_function("document.querySelector('[data-status]').textContent.startsWith('Thank you')")
    assert len(outbox(base_url)) == 1
    page.close()


def test_the_form_works_without_javascript(browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/")
    page.fill("#plain-name", "Alex")
    page.fill("#plain-email", "alex@example.org")
    page.fill("#plain-message", "Sent from a browser with JavaScript off.")
    page.check("#plain-form input[name=consent]")
    with page.expect_navigation():
        page.click("#plain-form button[type=submit]")
    assert "Thank you" in page.inner_text("h1")
    assert "988" in page.inner_text("main")
    assert "JavaScript off" in outbox(base_url)[0]["text"]
    context.close()
