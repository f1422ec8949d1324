"""The inbox's sign-in, sessions and refusals, through the Lambda entry point on moto's DynamoDB and SES."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

import pytest
from conftest import IP_HASH_SECRET, THERAPIST, WEBSITE_ORIGIN
from contact_helpers import attribute
from inbox_helpers import Browser, emailed_link, open_link, path_of, request_link, sign_in
from itsdangerous import Signer

from handler.config import ConfigError
from handler.inbox.settings import load_inbox_settings

OTHER = "someone@example.org"
API_ORIGIN = "https://r3pmxmplak.execute-api.us-east-2.amazonaws.com"  # the host of tests/events/http_api_v2.json
# The inbox's key: derived from the IP-hash secret, for this use only.
INBOX_KEY = hmac.digest(IP_HASH_SECRET.encode(), b"inbox signing key", "sha256")


# The tests whose outcome rests on DynamoDB's conditional writes: judged by AWS's own engine too.
on_both_engines = pytest.mark.dynamodb_engines


@pytest.fixture
def inbox(aws, make_handler):
    return make_handler()


@pytest.fixture
def browser(inbox) -> Browser:
    return Browser(inbox)


def items(aws, kind: str) -> list[dict]:
    return [item for item in aws.items() if item["pk"]["S"].startswith(f"{kind}#")]


# Signing in and out.


@on_both_engines
def test_the_therapist_signs_in_from_the_emailed_link_and_out_again(aws, browser: Browser) -> None:
    first = browser.get("/inbox")
    assert first.status == 303 and first.location == "/inbox/login"
    form = browser.get(first.location)
    assert form.status == 200 and 'name="email"' in form.text

    asked = browser.submit(form, "/inbox/login", email=THERAPIST)
    assert asked.status == 303 and asked.location == "/inbox/check-email"
    assert "if this address may sign in, a link is on its way" in browser.get(asked.location).text.lower()
    (email,) = aws.emails()
    assert email["To"] == THERAPIST and email["Subject"] == "Your sign-in link"
    link = emailed_link(aws)
    assert link.startswith(f"{API_ORIGIN}/inbox/login/")

    button = browser.get(path_of(link))
    assert button.status == 200 and "Sign in</button>" in button.text
    signed_in = browser.submit(button, path_of(link))
    assert signed_in.status == 303 and signed_in.location == "/inbox"
    (cookie,) = [c for c in signed_in.set_cookies if c.startswith("__Host-inbox_session=")]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path=/", "samesite=strict", "max-age=43200"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)

    home = browser.get("/inbox")
    assert home.status == 200 and f"Signed in as <strong>{THERAPIST}</strong>" in home.text
    assert len(items(aws, "SESSION")) == 1

    out = browser.submit(home, "/inbox/logout")
    assert out.status == 303 and out.location == "/inbox/login?notice=signed-out"
    assert "You have signed out." in browser.get(out.location).text
    assert "__Host-inbox_session" not in browser.cookies
    assert items(aws, "SESSION") == []
    assert browser.get("/inbox").status == 303


def test_opening_the_link_does_not_use_it_up(aws, browser: Browser) -> None:
    """Mail scanners fetch links: only the button's POST signs in."""
    request_link(browser, THERAPIST)
    link = emailed_link(aws)
    scanner = Browser(browser.handler, source_ip="192.0.2.99")
    for _ in range(3):
        assert scanner.get(path_of(link)).status == 200
    assert items(aws, "SESSION") == [] and len(items(aws, "LOGIN")) == 1
    assert open_link(browser, link).location == "/inbox"


@on_both_engines
def test_tokens_and_sessions_are_stored_hashed_with_their_expiry(aws, browser: Browser) -> None:
    before = int(time.time())
    request_link(browser, THERAPIST)
    token = path_of(emailed_link(aws)).rsplit("/", 1)[1]
    (login,) = items(aws, "LOGIN")
    assert login["pk"]["S"] == "LOGIN#" + hashlib.sha256(token.encode()).hexdigest()
    assert before + 900 <= attribute(login, "expires_at") <= int(time.time()) + 900
    open_link(browser, emailed_link(aws))
    (session,) = items(aws, "SESSION")
    session_id = Signer(INBOX_KEY, salt="inbox-session", digest_method=hashlib.sha256).unsign(
        browser.cookies["__Host-inbox_session"]
    )
    assert session["pk"]["S"] == "SESSION#" + hashlib.sha256(session_id).hexdigest()
    assert before + 12 * 3600 <= attribute(session, "expires_at") <= int(time.time()) + 12 * 3600
    everything = str(aws.items())
    assert token not in everything and session_id.decode() not in everything


def test_a_missing_session_keeps_where_the_therapist_was_going(aws, browser: Browser) -> None:
    answer = browser.get("/inbox?page=2")
    assert answer.status == 303 and answer.location == "/inbox/login?next=/inbox?page%3D2"
    form = browser.get(answer.location)
    assert form.fields()["next"] == "/inbox?page=2"
    browser.submit(form, "/inbox/login", email=THERAPIST)
    assert open_link(browser, emailed_link(aws)).location == "/inbox?page=2"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/inbox",
        "//evil.example/inbox",
        "/\\evil.example",
        "/inbox/../contact",
        "/contact",
        "javascript:alert(1)",
        "/inbox\r\nLocation: https://evil.example",
    ],
)
def test_after_signing_in_the_therapist_goes_nowhere_but_the_inbox(aws, browser: Browser, target: str) -> None:
    form = browser.get("/inbox/login")
    browser.submit(form, "/inbox/login", email=THERAPIST, next=target)
    assert open_link(browser, emailed_link(aws)).location == "/inbox"


def test_the_link_goes_to_the_domain_the_request_came_to(aws, browser: Browser) -> None:
    """A custom domain in front of the API: API Gateway passes its name as the Host."""
    form = browser.get("/inbox/login")
    browser.post("/inbox/login", {**form.fields(), "email": THERAPIST}, headers={"Host": "inbox.practice.example"})
    assert emailed_link(aws).startswith("https://inbox.practice.example/inbox/login/")


def test_the_sign_in_email_carries_the_link_and_nothing_else(aws, browser: Browser) -> None:
    request_link(browser, THERAPIST)
    (email,) = aws.emails()
    text = email.get_body(("plain",)).get_content()
    assert "15 minutes" in text and "works once" in text
    html = email.get_body(("html",)).get_content()
    assert f'href="{emailed_link(aws)}"' in html


def test_inbox_emails_decides_who_may_sign_in(aws, make_handler) -> None:
    handler = make_handler(INBOX_EMAILS="Dr.Lee@Practice.example, partner@practice.example")
    assert request_link(Browser(handler), THERAPIST).status == 303
    assert aws.emails() == []  # NOTIFY_EMAIL alone no longer signs in
    request_link(Browser(handler), "dr.lee@practice.EXAMPLE")
    (email,) = aws.emails()
    assert email["To"] == "Dr.Lee@Practice.example"  # the address as configured, not as typed


# The same answer for every address.


def test_an_address_not_listed_gets_the_same_answer_and_no_email(aws, inbox) -> None:
    listed, unlisted = Browser(inbox), Browser(inbox, source_ip="192.0.2.10")
    answers = [request_link(listed, THERAPIST), request_link(unlisted, OTHER)]
    assert answers[0].status == answers[1].status == 303
    assert answers[0].location == answers[1].location
    assert answers[0].text == answers[1].text
    assert listed.get("/inbox/check-email").text == unlisted.get("/inbox/check-email").text
    assert [email["To"] for email in aws.emails()] == [THERAPIST]
    assert len(items(aws, "LOGIN")) == 1


def test_a_malformed_address_is_named_as_such(aws, browser: Browser) -> None:
    form = browser.get("/inbox/login")
    answer = browser.submit(form, "/inbox/login", email="not an address")
    assert answer.status == 422 and "Enter your email address" in answer.text
    assert 'aria-invalid="true"' in answer.text and answer.fields()["email"] == "not an address"
    assert aws.emails() == [] and items(aws, "RATE") == []


# Refused links.


@on_both_engines
def test_a_used_link_is_refused(aws, browser: Browser) -> None:
    request_link(browser, THERAPIST)
    link = emailed_link(aws)
    assert open_link(browser, link).status == 303
    again = Browser(browser.handler)
    answer = open_link(again, link)
    assert answer.status == 400 and "already been used" in answer.text
    assert "inbox_session" not in str(answer.set_cookies)
    assert len(items(aws, "SESSION")) == 1


@on_both_engines
def test_an_expired_link_is_refused(aws, browser: Browser, clock) -> None:
    request_link(browser, THERAPIST)
    link = emailed_link(aws)
    page = browser.get(path_of(link))
    clock(15 * 60 + 1)
    answer = browser.submit(page, path_of(link))
    assert answer.status == 400 and "has expired" in answer.text
    assert items(aws, "SESSION") == []


@on_both_engines
def test_a_link_works_until_its_fifteen_minutes_are_up(aws, browser: Browser, clock) -> None:
    request_link(browser, THERAPIST)
    clock(15 * 60 - 2)
    assert open_link(browser, emailed_link(aws)).location == "/inbox"


@pytest.mark.parametrize("tamper", ["change", "truncate", "extend", "garbage"])
def test_a_tampered_link_is_refused_and_the_real_one_still_works(aws, browser: Browser, tamper: str) -> None:
    request_link(browser, THERAPIST)
    link = emailed_link(aws)
    token = link.rsplit("/", 1)[1]
    forged = {
        "change": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "truncate": token[:-1],
        "extend": token + "A",
        "garbage": "%3Cscript%3E",
    }[tamper]
    page = browser.get("/inbox/login/" + forged)
    if page.status == 200:  # well formed: refused when pressed
        page = browser.submit(page, "/inbox/login/" + forged)
    assert page.status == 400 and "not valid" in page.text
    assert "&lt;script&gt;" not in page.text and "<script>" not in page.text
    assert items(aws, "SESSION") == [] and len(items(aws, "LOGIN")) == 1
    assert open_link(browser, link).location == "/inbox"


# CSRF.


def test_a_sign_in_request_without_its_csrf_token_is_refused(aws, browser: Browser) -> None:
    browser.get("/inbox/login")
    answer = browser.post("/inbox/login", {"email": THERAPIST})
    assert answer.status == 403 and "did not come from this site" in answer.text
    assert aws.emails() == [] and items(aws, "RATE") == []


def test_a_sign_in_request_from_another_site_is_refused(aws, browser: Browser) -> None:
    """Another site can copy a token from its own visit, but not the cookie it is bound to."""
    attacker = Browser(browser.handler, source_ip="192.0.2.66")
    stolen = attacker.get("/inbox/login").fields()["csrf_token"]
    browser.get("/inbox/login")  # the therapist's own cookie
    answer = browser.post("/inbox/login", {"email": THERAPIST, "csrf_token": stolen})
    assert answer.status == 403 and aws.emails() == []
    without_cookie = Browser(browser.handler)
    assert without_cookie.post("/inbox/login", {"email": THERAPIST, "csrf_token": stolen}).status == 403


def test_pressing_sign_in_without_the_form_cookie_is_refused_and_keeps_the_link(aws, browser: Browser) -> None:
    request_link(browser, THERAPIST)
    link = emailed_link(aws)
    page = browser.get(path_of(link))
    cookieless = Browser(browser.handler)
    answer = cookieless.submit(page, path_of(link))
    assert answer.status == 403 and items(aws, "SESSION") == []
    assert len(items(aws, "LOGIN")) == 1
    assert open_link(browser, link).location == "/inbox"


@pytest.mark.parametrize("token", [None, "", "x" * 43])
def test_signing_out_without_the_session_csrf_token_is_refused(aws, browser: Browser, token: str | None) -> None:
    sign_in(browser, aws, THERAPIST)
    fields = {} if token is None else {"csrf_token": token}
    answer = browser.post("/inbox/logout", fields)
    assert answer.status == 403 and "did not come from this site" in answer.text
    assert len(items(aws, "SESSION")) == 1
    assert browser.get("/inbox").status == 200


def test_another_sessions_csrf_token_is_refused(aws, inbox) -> None:
    first, second = Browser(inbox), Browser(inbox, source_ip="192.0.2.20")
    sign_in(first, aws, THERAPIST)
    sign_in(second, aws, THERAPIST)
    other_token = second.get("/inbox").fields()["csrf_token"]
    assert first.post("/inbox/logout", {"csrf_token": other_token}).status == 403
    assert len(items(aws, "SESSION")) == 2


# Refused sessions.


def test_a_session_cookie_signed_with_another_key_is_refused(aws, browser: Browser) -> None:
    sign_in(browser, aws, THERAPIST)
    session_id = browser.cookies["__Host-inbox_session"].rsplit(".", 1)[0]
    forged = Signer("another-key-0123456789abcdef0123456789", salt="inbox-session", digest_method=hashlib.sha256)
    browser.cookies["__Host-inbox_session"] = forged.sign(session_id).decode()
    before = aws.items()
    answer = browser.get("/inbox")
    assert answer.status == 303 and answer.location == "/inbox/login?notice=ended"
    assert "__Host-inbox_session" not in browser.cookies  # told to forget it
    assert "has ended or is not valid" in browser.get(answer.location).text
    assert aws.items() == before


@on_both_engines
def test_a_signed_out_session_cannot_be_used_again(aws, browser: Browser) -> None:
    sign_in(browser, aws, THERAPIST)
    home = browser.get("/inbox")
    kept = dict(browser.cookies)
    browser.submit(home, "/inbox/logout")
    replay = Browser(browser.handler, cookies=kept)
    answer = replay.get("/inbox")
    assert answer.status == 303 and answer.location == "/inbox/login?notice=ended"
    replay.cookies = dict(kept)
    again = replay.submit(home, "/inbox/logout")
    assert again.status == 303 and again.location.startswith("/inbox/login")
    assert items(aws, "SESSION") == []


@on_both_engines
def test_a_session_ends_after_inbox_session_hours(aws, make_handler, clock) -> None:
    browser = Browser(make_handler(INBOX_SESSION_HOURS="2"))
    signed_in = sign_in(browser, aws, THERAPIST)
    assert "Max-Age=7200" in str(signed_in.set_cookies)
    clock(2 * 3600 - 5)
    assert browser.get("/inbox").status == 200
    clock(10)
    assert browser.get("/inbox").location == "/inbox/login?notice=ended"


def test_a_session_ends_when_its_address_is_no_longer_listed(aws, make_handler) -> None:
    browser = Browser(make_handler())
    sign_in(browser, aws, THERAPIST)
    browser.handler = make_handler(INBOX_EMAILS="someone-else@practice.example")
    assert browser.get("/inbox").location == "/inbox/login?notice=ended"


# Rate limits.


@on_both_engines
def test_sign_in_requests_are_limited_per_address_listed_or_not(aws, inbox) -> None:
    for address in (THERAPIST, OTHER):
        answers = [request_link(Browser(inbox, source_ip=f"192.0.2.{n}"), address) for n in range(6)]
        assert [a.status for a in answers] == [303] * 5 + [429]
        assert "Too many sign-in requests" in answers[-1].text
        assert 0 < int(answers[-1].header("Retry-After")) <= 900
    assert len(aws.emails()) == 5
    # Any address's key is a keyed hash: no address in the table.
    assert THERAPIST not in str(items(aws, "RATE")) and OTHER not in str(items(aws, "RATE"))


def test_another_spelling_of_an_address_counts_against_the_same_limit(aws, inbox) -> None:
    # Full-width letters and upper case read as the same address, for the list and for the limit.
    local, domain = THERAPIST.split("@")
    wide = local.upper() + "@" + "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in domain)
    spellings = [THERAPIST, wide, THERAPIST.upper(), wide, THERAPIST, wide]
    answers = [request_link(Browser(inbox, source_ip=f"192.0.2.{n}"), a) for n, a in enumerate(spellings)]
    assert [a.status for a in answers] == [303] * 5 + [429]
    assert len(aws.emails()) == 5


@on_both_engines
def test_sign_in_requests_are_limited_per_client_network(aws, inbox) -> None:
    def ask(source_ip: str, number: int, forwarded: str = "203.0.113.1") -> int:
        browser = Browser(inbox, source_ip=source_ip)
        form = browser.get("/inbox/login")
        headers = {"X-Forwarded-For": forwarded}  # written by the client: never trusted
        return browser.post(
            "/inbox/login", {**form.fields(), "email": f"person{number}@example.org"}, headers=headers
        ).status

    assert [ask("2001:db8:1:2::1", n, forwarded=f"203.0.113.{n}") for n in range(20)] == [303] * 20
    assert ask("2001:db8:1:2:ffff::9", 20) == 429  # the same /64
    assert ask("2001:db8:1:3::1", 21) == 303  # the next /64
    assert [ask("192.0.2.1", n) for n in range(30, 50)] == [303] * 20
    assert ask("::ffff:192.0.2.1", 50) == 429  # IPv4-mapped: the same IPv4 address
    assert ask("192.0.2.2", 51) == 303


@on_both_engines
def test_the_sign_in_limit_slides_so_no_burst_fits_across_a_window_edge(aws, inbox, clock) -> None:
    # A fixed window let 5 requests just before its end and 5 just after it: 10 in a moment.
    clock(900 - time.time() % 900 - 2)  # 2 seconds before a fixed 15-minute window would end

    def ask(n: int) -> Any:
        return request_link(Browser(inbox, source_ip=f"192.0.2.{n}"), THERAPIST)

    assert [ask(n).status for n in range(5)] == [303] * 5
    clock(4)
    refused = ask(5)
    assert refused.status == 429 and 890 <= int(refused.header("Retry-After")) <= 900
    clock(897)  # the first five are now a window old
    assert ask(6).status == 303


# Headers on every answer.


def inbox_answers(aws, inbox) -> dict[str, object]:
    browser = Browser(inbox)
    origin = {"Origin": WEBSITE_ORIGIN}  # on ALLOWED_ORIGINS: any other path would get CORS headers
    answers = {
        "redirect": browser.get("/inbox", headers=origin),
        "sign-in page": browser.get("/inbox/login", headers=origin),
        "stylesheet": browser.get("/inbox/static/inbox.css", headers=origin),
        "malformed address": browser.submit(browser.get("/inbox/login"), "/inbox/login", email="x"),
        "refused form": browser.post("/inbox/login", {"email": THERAPIST}, headers=origin),
        "check email": browser.get("/inbox/check-email", headers=origin),
        "tampered link": browser.get("/inbox/login/nope", headers=origin),
        "unknown page": browser.get("/inbox/nowhere", headers=origin),
        "wrong method": browser.send("PUT", "/inbox/logout", headers=origin),
        "preflight": browser.send(
            "OPTIONS", "/inbox/login", headers={**origin, "Access-Control-Request-Method": "POST"}
        ),
    }
    request_link(browser, THERAPIST)
    link = path_of(emailed_link(aws))
    answers["link page"] = browser.get(link, headers=origin)
    answers["signed in"] = browser.submit(answers["link page"], link, headers=origin)
    answers["inbox"] = browser.get("/inbox", headers=origin)
    answers["signed out"] = browser.submit(answers["inbox"], "/inbox/logout", headers=origin)
    return answers


def test_every_inbox_answer_is_uncached_unframed_unshared_and_sends_no_referrer(aws, inbox) -> None:
    for name, answer in inbox_answers(aws, inbox).items():
        assert answer.header("Cache-Control") == "no-store", name
        csp = answer.header("Content-Security-Policy")
        assert csp is not None, name
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'", name
        assert "script-src" not in directives and "'unsafe-inline'" not in csp, name
        assert answer.header("Referrer-Policy") == "no-referrer", name
        assert answer.header("X-Content-Type-Options") == "nosniff", name
        cors = [h for h in answer.result.get("headers", {}) if h.lower().startswith("access-control-")]
        assert cors == [], (name, cors)


def test_other_paths_still_get_cors_for_the_website(inbox) -> None:
    answer = Browser(inbox).get("/contact", headers={"Origin": WEBSITE_ORIGIN})
    assert answer.header("Access-Control-Allow-Origin") == WEBSITE_ORIGIN


# Switched off.


def test_inbox_enabled_false_answers_404_on_every_inbox_route(aws, make_handler) -> None:
    browser = Browser(make_handler(INBOX_ENABLED="false"))
    token = "A" * 43
    for method, path in [
        ("GET", "/inbox"),
        ("GET", "/inbox/login"),
        ("POST", "/inbox/login"),
        ("GET", "/inbox/check-email"),
        ("GET", f"/inbox/login/{token}"),
        ("POST", f"/inbox/login/{token}"),
        ("POST", "/inbox/logout"),
        ("GET", "/inbox/static/inbox.css"),
    ]:
        answer = browser.send(method, path, body="email=x" if method == "POST" else None)
        assert answer.status == 404, (method, path)
    assert aws.items() == [] and aws.emails() == []
    assert browser.get("/health").status == 200


# Logs.


def test_the_logs_name_no_address_and_no_token(aws, browser: Browser, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    request_link(browser, OTHER)
    sign_in(browser, aws, THERAPIST)
    token = emailed_link(aws).rsplit("/", 1)[1]
    browser.submit(browser.get("/inbox"), "/inbox/logout")
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "inbox signed in" in logged and "inbox signed out" in logged
    for secret in (THERAPIST, OTHER, "practice.example", token, IP_HASH_SECRET, INBOX_KEY.hex()):
        assert secret not in logged


# Start-up.


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("INBOX_SESSION_HOURS", "0", "INBOX_SESSION_HOURS"),
        ("INBOX_SESSION_HOURS", "twelve", "INBOX_SESSION_HOURS"),
        ("INBOX_ENABLED", "yes", "INBOX_ENABLED"),
        ("INBOX_EMAILS", "therapist at practice", "INBOX_EMAILS"),
    ],
)
def test_a_setting_that_cannot_work_stops_start_up(make_handler, variable: str, value: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        make_handler(**{variable: value})


def test_the_settings_default_as_the_issue_says() -> None:
    settings = load_inbox_settings({}, notify_emails=["A@practice.example"])
    assert settings.enabled is True
    assert settings.emails == {"a@practice.example": "A@practice.example"}
    assert settings.session_seconds == 12 * 3600


# Permissions.


def test_the_api_function_may_make_every_call_the_inbox_makes(aws, browser: Browser) -> None:
    import json

    from contact_helpers import aws_clients
    from test_template_deploy import Stack, as_list, transform

    calls: set[str] = set()
    aws_clients().dynamodb.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.add(f"dynamodb:{model.name}")
    )
    sign_in(browser, aws, THERAPIST)
    browser.submit(browser.get("/inbox"), "/inbox/logout")
    request_link(browser, OTHER)
    assert calls == {
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",  # the list
    }
    stack = Stack(transform(), {})
    allowed = {
        action
        for statement in stack.statements(stack.role_of("ApiFunction"))
        if "ContactTable" in json.dumps(statement.get("Resource"))
        for action in as_list(statement["Action"])
    }
    assert calls <= allowed, calls - allowed


# DynamoDB failing.


@pytest.mark.parametrize(
    ("operation", "request_made"),
    [
        ("update_item", lambda browser: request_link(browser, THERAPIST)),
        ("get_item", lambda browser: browser.get("/inbox")),
    ],
)
def test_an_unavailable_table_gets_a_clear_503_and_changes_nothing(aws, browser: Browser, operation, request_made):
    from botocore.stub import Stubber
    from contact_helpers import aws_clients

    browser.cookies["__Host-inbox_session"] = (
        Signer(INBOX_KEY, salt="inbox-session", digest_method=hashlib.sha256).sign("A" * 43).decode()
    )
    browser.get("/inbox/login")
    with Stubber(aws_clients().dynamodb) as stubber:
        stubber.add_client_error(operation, service_error_code="ProvisionedThroughputExceededException")
        answer = request_made(browser)
    assert answer.status == 503 and "try again in a minute" in answer.text
    assert answer.header("Retry-After") == "60" and answer.header("Cache-Control") == "no-store"
    assert aws.items() == [] and aws.emails() == []


def test_a_link_ses_refuses_gets_the_same_answer_and_an_error_in_the_log(
    aws, browser: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    """Another answer would tell who may sign in; the log tells the operator."""
    from botocore.stub import Stubber
    from contact_helpers import aws_clients

    with Stubber(aws_clients().ses) as stubber:
        stubber.add_client_error("send_raw_email", service_error_code="Throttling")
        answer = request_link(browser, THERAPIST)
    assert answer.status == 303 and answer.location == "/inbox/check-email"
    assert aws.emails() == []
    (record,) = [r for r in caplog.records if r.getMessage() == "inbox sign-in link not sent"]
    assert record.levelno == logging.ERROR and record.error_code == "Throttling"


# The key, derived from a secret read from Secrets Manager.


def test_the_key_is_read_with_the_first_page_that_needs_it(aws, browser: Browser) -> None:
    from contact_helpers import current_app

    assert browser.get("/inbox/static/inbox.css").status == 200
    assert browser.get("/inbox").status == 303  # no cookie: nothing to check
    assert "secret_values" not in current_app().extensions
    browser.get("/inbox/login")
    assert current_app().extensions["secret_values"].ip_hash_secret == IP_HASH_SECRET.encode()
