"""The website's page in a real browser (Debian's Chromium, driven by Playwright) against the local stack."""

from __future__ import annotations

import json
import shutil
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from accessibility import assert_accessible, needs_axe

from handler.validation import FIELDS

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Chromium is not installed: `apt-get install chromium` (Debian's package; .ci/run installs it)",
)


def outbox(base_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(base_url + "/dev/outbox", timeout=10) as response:
        return json.load(response)["emails"]


# A practice that asks intake questions: the example's form is built from GET /contact.
INTAKE = {
    "INTAKE_QUESTIONS": "client_type!,session_format,state!,payment,availability,voicemail_ok",
    "LICENSED_STATES": "NY,NJ",
    "MESSAGE_MAX_LENGTH": "1000",
    "MESSAGE_HINT": "A few lines are enough: no clinical details, please.",
}
asking_questions = pytest.mark.parametrize("stack_environment", [INTAKE], ids=["intake"])

CONSENT_SENTENCE = "Please tick the box to confirm that you understand this form is not for emergencies."


def open_page(page: Any, url: str) -> Any:
    """``page`` at ``url``, once it has loaded and its requests have settled."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page


def fill(page: Any, form: str, name: str, email: str, message: str) -> None:
    page.fill(f"{form} [name=name]", name)
    page.fill(f"{form} [name=email]", email)
    page.fill(f"{form} [name=message]", message)


def urls_requested(page: Any) -> list[str]:
    """Every URL the page asks for from now on, navigations included."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def assert_no_field_in_any_url(urls: list[str]) -> None:
    for url in urls:
        carried = set(FIELDS) & set(parse_qs(urlsplit(url).query, keep_blank_values=True))
        assert not carried, f"the form's fields {sorted(carried)} went into a URL: {url}"


def wait_for_status_or_navigation(page: Any) -> None:
    """Until the form says something, or the page has gone elsewhere (the form submitted by the browser)."""
    page.wait_for_function(
        "location.search !== '' || location.pathname !== '/'"
        " || (document.querySelector('[data-status]')?.textContent || '').replace('Sending…', '') !== ''"
    )


def open_and_fill(browser: Any, base_url: str, name: str, email: str, message: str) -> Any:
    """The example page, once its form is ready, with the contact form filled in and consent given."""
    page = open_page(browser.new_page(), base_url + "/")
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


def test_field_errors_are_in_words_and_tied_to_their_fields(browser, base_url: str) -> None:
    from playwright.sync_api import expect

    page = open_page(browser.new_page(), base_url + "/")
    fill(page, "#contact-form", "", "sam-at-example", "A message, with the rest left wrong.")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("#contact-form [aria-invalid]")
    errors = {
        "#name": "Please fill in your name.",
        "#email": "Please enter a valid email address.",
        "#consent": CONSENT_SENTENCE,
    }
    for field, sentence in errors.items():
        name = field.lstrip("#")
        assert page.inner_text(f'[data-error-for="{name}"]') == sentence
        assert page.get_attribute(field, "aria-invalid") == "true", field
        expect(page.locator(field)).to_have_accessible_description(sentence)
    assert page.get_attribute("#message", "aria-invalid") is None
    assert page.evaluate("document.activeElement.id") == "name"  # the first field to correct
    page.close()


def test_no_notice_box_is_empty_before_anything_is_sent(browser, base_url: str) -> None:
    page = open_page(browser.new_page(), base_url + "/")
    notices = page.locator(".notice")
    assert notices.count() >= 2
    for index in range(notices.count()):
        notice = notices.nth(index)
        if notice.is_visible():
            assert notice.inner_text().strip(), f"an empty notice box: {notice.evaluate('n => n.outerHTML')}"
    page.close()


def test_the_message_is_sent_when_the_articles_fail_to_load(browser, base_url: str) -> None:
    page = browser.new_page()
    page.route("**/articles*", lambda route: route.abort())
    urls = urls_requested(page)
    open_page(page, base_url + "/")
    fill(page, "#contact-form", "Kim", "kim@example.org", "Sent while the articles were down.")
    page.check("#consent")
    page.click("#contact-form button[type=submit]")
    wait_for_status_or_navigation(page)
    assert_no_field_in_any_url(urls)
    assert page.url == base_url + "/"
    assert page.inner_text("[data-status]").startswith("Thank you")
    assert "down" in outbox(base_url)[0]["text"]
    assert "could not be loaded" in page.inner_text("#article")
    page.close()


def serve_the_page_elsewhere(page: Any, base_url: str) -> str:
    """The example page's address on another origin, one the API does not allow (``localhost``
    rather than 127.0.0.1: a secure context, as the website's https is), configured for the API at ``base_url``."""
    elsewhere = base_url.replace("127.0.0.1", "localhost")

    def from_the_stack(route: Any) -> None:
        path = urlsplit(route.request.url).path
        response = route.fetch(url=base_url + path, method="GET", headers={}, post_data=None)
        body = response.text()
        if path == "/":
            body = body.replace('data-api=""', f'data-api="{base_url}"').replace(
                'action="/contact"', f'action="{base_url}/contact"'
            )
        route.fulfill(response=response, body=body)

    page.route(elsewhere + "/**", from_the_stack)
    return elsewhere + "/"


def test_an_origin_the_api_refuses_gets_a_visible_error_and_nothing_in_the_url(browser, base_url: str) -> None:
    page = browser.new_page()
    elsewhere = serve_the_page_elsewhere(page, base_url)
    urls = urls_requested(page)
    open_page(page, elsewhere)
    fill(page, "#contact-form", "Lee", "lee@example.org", "My words must not end up in a URL.")
    page.check("#consent")
    page.click("#contact-form button[type=submit]")
    wait_for_status_or_navigation(page)
    assert_no_field_in_any_url(urls)
    assert page.url == elsewhere
    assert page.inner_text("[data-status]").startswith("Your message could not be sent")
    assert page.input_value("#message") == "My words must not end up in a URL."
    assert "could not be loaded" in page.inner_text("#article")
    assert outbox(base_url) == []
    page.close()


def test_the_javascript_form_is_posted_by_the_browser_without_javascript(browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    urls = urls_requested(page)
    page.goto(base_url + "/")
    with page.expect_navigation():
        page.click("#contact-form button[type=submit]")  # nothing filled in
    assert_no_field_in_any_url(urls)
    assert page.url == base_url + "/contact"
    assert page.inner_text("h1") == "Your message was not sent"
    paragraphs = page.locator("main p").all_inner_texts()
    for sentence in (
        "Please fill in your name.",
        "Please fill in your email address.",
        "Please fill in your message.",
        CONSENT_SENTENCE,
    ):
        assert sentence in paragraphs
    page.goto(base_url + "/")
    fill(page, "#contact-form", "Noor", "noor@example.org", "Posted by the browser itself.")
    page.check("#consent")
    with page.expect_navigation():
        page.click("#contact-form button[type=submit]")
    assert_no_field_in_any_url(urls)
    assert "Thank you" in page.inner_text("h1")
    assert "by the browser itself" in outbox(base_url)[0]["text"]
    context.close()


def test_the_plain_form_names_a_bad_email_in_words(browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/")
    fill(page, "#plain-form", "Alex", "alex@example", "The browser accepts this address; the API does not.")
    page.check("#plain-form input[name=consent]")
    with page.expect_navigation():
        page.click("#plain-form button[type=submit]")
    text = page.inner_text("main")
    assert "Please enter a valid email address." in text
    assert "invalid email" not in text and "email:" not in text
    assert outbox(base_url) == []
    context.close()


@needs_axe
@pytest.mark.parametrize("stack_environment", [{}, INTAKE], ids=["fixed-fields", "intake"])
def test_the_page_passes_axe_before_and_after_sending(browser, base_url: str, stack_environment) -> None:
    page = open_page(browser.new_page(), base_url + "/")
    page.wait_for_selector("#contact-form .field")  # built from the form's definition
    assert_accessible(page, "on loading")
    fill(page, "#contact-form", "", "sam-at-example", "Refused first.")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("#contact-form [aria-invalid]")
    assert_accessible(page, "after a refused submission")
    fill(page, "#contact-form", "Sam", "sam@example.org", "Then sent.")
    if stack_environment:  # the practice's required questions
        page.check("#client_type-returning")
        page.select_option("#state", "NY")
    page.check("#consent")
    page.click("#contact-form button[type=submit]")
    page.wait_for_function("document.querySelector('[data-status]').textContent.startsWith('Thank you')")
    assert_accessible(page, "after a successful submission")
    page.close()


@needs_axe
def test_the_page_passes_axe_when_the_articles_fail_to_load(browser, base_url: str) -> None:
    page = browser.new_page()
    page.route("**/articles*", lambda route: route.abort())
    open_page(page, base_url + "/")
    assert_accessible(page, "with the articles failed")
    page.close()


@needs_axe
def test_the_pages_without_javascript_pass_axe(browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/")
    assert_accessible(page, "the page without JavaScript")
    with page.expect_navigation():
        page.click("#contact-form button[type=submit]")
    assert_accessible(page, "the API's page for a refused form")
    page.goto(base_url + "/")
    fill(page, "#plain-form", "Ana", "ana@example.org", "Plain.")
    page.check("#plain-form input[name=consent]")
    with page.expect_navigation():
        page.click("#plain-form button[type=submit]")
    assert_accessible(page, "the API's thank-you page")
    context.close()


def stored_messages(stack: Any) -> list[Any]:
    """The messages in the local stack's table, as the function stored them."""
    import boto3

    from handler.message import Message

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    items = dynamodb.scan(TableName="contact-messages")["Items"]
    return [Message.from_item(item) for item in items if item["pk"]["S"].startswith("MSG#")]


def open_built_form(browser: Any, base_url: str) -> Any:
    """The example page once practice.js has built its form from the definition."""
    page = open_page(browser.new_page(), base_url + "/")
    page.wait_for_selector("#contact-form select[name=state]")
    return page


@asking_questions
def test_a_form_built_from_the_definition_asks_the_practice_s_questions(browser, stack) -> None:
    from playwright.sync_api import expect

    page = open_built_form(browser, stack.url)
    form = page.locator("#contact-form")
    expect(form.locator("#message")).to_have_accessible_description(INTAKE["MESSAGE_HINT"])
    assert form.locator("#message").get_attribute("maxlength") == "1000"
    expect(form.get_by_role("group", name="Are you a new or a returning client?")).to_be_visible()
    expect(form.get_by_role("combobox", name="Which state do you live in?")).to_be_visible()
    expect(form.get_by_role("group", name="When are you usually free for sessions? (optional)")).to_be_visible()
    form.locator("#name").fill("Jordan Lee")
    form.locator("#email").fill("jordan@example.org")
    form.locator("#message").fill("Looking for evening sessions, online if possible.")
    form.get_by_label("New client").check()
    form.get_by_label("Online").check()
    form.locator("#state").select_option("TX")
    form.get_by_label("Not sure yet").check()
    form.get_by_label("Weekday evenings").check()
    form.get_by_label("Weekends").check()
    form.locator("#voicemail_ok-no").check()
    form.locator("#consent").check()
    form.locator("button[type=submit]").click()
    page.wait_for_function("document.querySelector('[data-status]').textContent.startsWith('Thank you')")
    notice = form.locator("[data-notice]").inner_text()
    assert notice.startswith("This practice may not be able to see clients in Texas") and "988" in notice
    (message,) = stored_messages(stack)
    assert (message.name, message.message) == ("Jordan Lee", "Looking for evening sessions, online if possible.")
    assert (message.client_type, message.session_format, message.state) == ("new", "online", "TX")
    assert (message.payment, message.availability, message.voicemail_ok) == (
        "not_sure",
        "weekday_evening,weekend",
        "no",
    )
    (alert,) = outbox(stack.url)
    assert "Availability: Weekday evenings, Weekends\n" in alert["text"] and "State: Texas\n" in alert["text"]
    page.close()


@asking_questions
def test_an_unanswered_question_is_named_beside_it(browser, stack) -> None:
    from playwright.sync_api import expect

    page = open_built_form(browser, stack.url)
    fill(page, "#contact-form", "Jordan Lee", "jordan@example.org", "Kept while I answer the questions.")
    page.check("#consent")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("#contact-form [aria-invalid]")
    client_type = "Please answer the question: Are you a new or a returning client?"
    state = "Please answer the question: Which state do you live in?"
    assert page.inner_text('[data-error-for="client_type"]') == client_type
    assert page.inner_text('[data-error-for="state"]') == state
    expect(page.locator("#state")).to_have_accessible_description(state)
    expect(page.locator("#client_type-new")).to_have_accessible_description(client_type)
    assert page.get_attribute("#client_type-returning", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "client_type-new"  # the first field to correct
    assert page.input_value("#message") == "Kept while I answer the questions."
    assert stored_messages(stack) == [] and outbox(stack.url) == []
    page.close()


def test_without_the_definition_the_form_keeps_its_own_fields_and_sends(browser, base_url: str) -> None:
    page = browser.new_page()
    page.route(
        "**/contact",
        lambda route: route.abort() if route.request.method == "GET" else route.continue_(),
    )
    open_page(page, base_url + "/")
    fill(page, "#contact-form", "Kim", "kim@example.org", "Sent with the page's own fields.")
    page.check("#consent")
    page.click("#contact-form button[type=submit]")
    page.wait_for_function("document.querySelector('[data-status]').textContent.startsWith('Thank you')")
    assert "own fields" in outbox(base_url)[0]["text"]
    page.close()
