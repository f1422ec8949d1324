"""``make run``'s server, over real HTTP: the same entry point behind a local stand-in for API Gateway."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import WEBSITE_ORIGIN

from infra import local_stack


def test_the_article_is_served_over_http(base_url: str) -> None:
    request = urllib.request.Request(
        base_url + "/articles/what-is-psychodynamic-therapy", headers={"Origin": WEBSITE_ORIGIN}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == WEBSITE_ORIGIN
        etag = response.headers["ETag"]
        article = json.load(response)["article"]
    assert article["title"].startswith("What Is Psychodynamic Therapy?")
    assert article["url"] == f"{base_url}/articles/what-is-psychodynamic-therapy"
    conditional = urllib.request.Request(request.full_url, headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(conditional, timeout=10)
    assert not_modified.value.code == 304


def test_errors_are_json_over_http(base_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base_url + "/nowhere", timeout=10)
    assert missing.value.code == 404
    assert json.load(missing.value)["error"] == "not_found"


def test_the_request_log_names_no_client_address(base_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    urllib.request.urlopen(base_url + "/health?email=someone@example.com", timeout=10).read()
    printed = capsys.readouterr()
    assert "GET /health 200" in printed.out
    assert "127.0.0.1" not in printed.out + printed.err and "someone" not in printed.out + printed.err


def test_a_contact_message_posted_over_http_reaches_the_outbox(base_url: str) -> None:
    fields = {
        "name": "Zoë Ærø 😊 김민준 박서연 이도윤 최하은 정시우",  # long enough to be folded
        "email": "zoe@example.org",
        "message": "I would like to book a first session.\nWeekday evenings suit me.",
        "consent": True,
    }
    request = urllib.request.Request(
        base_url + "/contact",
        data=json.dumps(fields).encode(),
        headers={"Content-Type": "application/json", "Origin": WEBSITE_ORIGIN},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        message_id = json.load(response)["id"]
    with urllib.request.urlopen(base_url + "/dev/outbox", timeout=10) as response:
        emails = json.load(response)["emails"]
    (alert,) = [e for e in emails if message_id in (e["text"] or "")]
    assert alert["subject"] == f"New enquiry from {fields['name']}"
    assert alert["to"] == ["therapist@practice.example"]
    assert alert["reply_to"] == f"{fields['name']} <zoe@example.org>"
    assert "Weekday evenings suit me." in alert["text"]


def test_a_plain_form_post_over_http_is_thanked(base_url: str) -> None:
    form = urllib.parse.urlencode(
        {"name": "Sam", "email": "sam@example.org", "message": "Hello from a form without JavaScript.", "consent": "on"}
    ).encode()
    request = urllib.request.Request(
        base_url + "/contact",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        assert "Thank you" in response.read().decode()


def test_the_example_page_and_its_module_are_served(base_url: str) -> None:
    with urllib.request.urlopen(base_url + "/", timeout=10) as response:
        page = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/html")
    assert 'from "./practice.js"' in page and 'action="/contact"' in page
    with urllib.request.urlopen(base_url + "/practice.js", timeout=10) as response:
        assert "export function attachContactForm" in response.read().decode()


def test_sample_messages_can_be_seeded(base_url: str) -> None:
    local_stack.seed_messages(base_url, 2)
    with urllib.request.urlopen(base_url + "/dev/outbox", timeout=10) as response:
        subjects = [e["subject"] for e in json.load(response)["emails"]]
    assert subjects[:2] == ["New enquiry from Zoë Ærø", "New enquiry from Sam Rivera"]


def test_contact_admin_works_on_the_local_stack(
    stack: local_stack.LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra import contact_admin

    local_stack.seed_messages(stack.url, 3)
    capsys.readouterr()
    assert contact_admin.main(["--local", "--endpoint-url", stack.aws_url, "stats"]) == 0
    assert "sent      3" in capsys.readouterr().out


def test_the_request_log_shows_no_sign_in_token(base_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    token = "T0ken-that-signs-in_" + "x" * 23
    with urllib.request.urlopen(f"{base_url}/inbox/login/{token}", timeout=10) as response:
        assert response.status == 200 and "Sign in" in response.read().decode()
    printed = capsys.readouterr()
    assert "GET /inbox/login/<token> 200" in printed.out
    assert token not in printed.out + printed.err
