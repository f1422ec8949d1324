"""The inbox's pages and actions, through the Lambda entry point on moto's DynamoDB and SES:
messages posted by visitors, read and handled by the signed-in therapist."""

from __future__ import annotations

import csv
import io
import logging
import re
from html import unescape
from urllib.parse import unquote

import pytest
from apigw import json_body
from conftest import THERAPIST
from contact_helpers import VALID, attribute, post_json
from inbox_helpers import Answer, Browser, sign_in

PRACTICE_TZ = "Europe/Berlin"


@pytest.fixture
def inbox(aws, make_handler):
    return make_handler(PRACTICE_TIMEZONE=PRACTICE_TZ)


@pytest.fixture
def therapist(aws, inbox) -> Browser:
    browser = Browser(inbox)
    assert sign_in(browser, aws, THERAPIST).status == 303
    return browser


def post(inbox, **fields: str) -> str:
    return str(json_body(post_json(inbox, {**VALID, **fields}))["id"])


def names_listed(answer: Answer) -> list[str]:
    return [unescape(name) for name in re.findall(r'<a href="/inbox/messages/[0-9A-Z]{26}">([^<]*)</a>', answer.text)]


def csrf(page: Answer) -> dict[str, str]:
    return {"csrf_token": page.fields()["csrf_token"]}


def stored(aws, message_id: str) -> dict:
    (item,) = [item for item in aws.messages() if item["pk"]["S"] == f"MSG#{message_id}"]
    return item


# The list.


def test_the_list_shows_messages_newest_first_with_their_state_time_and_preference(aws, inbox, therapist) -> None:
    post(inbox, name="Ann One", email="ann@example.org", message="First")
    post(inbox, name="Bo <b>Two</b>", email="bo@example.org", message="Second", preferred_contact="phone")
    post(inbox, name="Spammer", email="spam@example.org", message="Buy", website="spam.example")
    page = therapist.get("/inbox")
    assert page.status == 200
    assert names_listed(page) == ["Spammer", "Bo <b>Two</b>", "Ann One"]
    assert "Bo &lt;b&gt;Two&lt;/b&gt;" in page.text  # autoescaped
    assert "prefers phone" in page.text and re.search(r"\d\d:\d\d CE[S]?T", page.text)
    assert f"Signed in as <strong>{THERAPIST}</strong>" in page.text
    assert names_listed(therapist.get("/inbox?state=spam")) == ["Spammer"]
    assert names_listed(therapist.get("/inbox?state=new")) == ["Bo <b>Two</b>", "Ann One"]
    assert names_listed(therapist.get("/inbox?state=replied")) == []


def test_the_list_pages_by_an_opaque_signed_cursor(aws, inbox, therapist, monkeypatch) -> None:
    monkeypatch.setattr("handler.inbox.messages.PAGE_SIZE", 2)
    for n in range(5):
        post(inbox, name=f"Visitor {n}", email=f"v{n}@example.org", message=f"Text {n}")
    seen, path = [], "/inbox"
    while path:
        page = therapist.get(path)
        seen += names_listed(page)
        older = re.search(r'href="(/inbox\?page=[^"]+)">Older messages', page.text)
        path = unescape(older.group(1)) if older else ""
        if path:
            assert "Visitor" not in unquote(path) and "@" not in unquote(path)
    assert seen == [f"Visitor {n}" for n in range(4, -1, -1)]


@pytest.mark.parametrize("query", ["state=unknown", "page=forged", "page=eyJhIjoxfQ.AAAA"])
def test_a_bad_filter_or_page_is_named_not_a_500(therapist, query: str) -> None:
    answer = therapist.get(f"/inbox?{query}")
    assert answer.status == 400 and "not valid" in answer.text


# A message.


def test_a_message_shows_every_field_with_tel_and_mailto_links(aws, inbox, therapist) -> None:
    message_id = post(inbox, phone="+1 (555) 010-0199", message="I would like =help & <advice>.")
    page = therapist.get(f"/inbox/messages/{message_id}")
    assert page.status == 200
    for shown in ["Alex Example", "alex@example.org", "+1 (555) 010-0199", "I would like =help &amp; &lt;advice&gt;."]:
        assert shown in page.text
    assert 'href="tel:+15550100199"' in page.text
    (mailto,) = re.findall(r'href="(mailto:[^"]+)"', page.text)
    assert unescape(mailto) == "mailto:alex@example.org?subject=Re%3A%20Your%20enquiry"
    assert "sent" in page.text  # the alert's delivery state


def test_a_message_shows_the_intake_answers_in_words(aws, make_handler) -> None:
    inbox = make_handler(INTAKE_QUESTIONS="client_type,state,availability")
    therapist = Browser(inbox)
    sign_in(therapist, aws, THERAPIST)
    answers = {"client_type": "returning", "state": "TX", "availability": ["weekday_evening", "weekend"]}
    message_id = str(json_body(post_json(inbox, {**VALID, **answers}))["id"])
    page = therapist.get(f"/inbox/messages/{message_id}").text
    for label, answer in [("State", "Texas"), ("Availability", "Weekday evenings, Weekends")]:
        assert f"<dt>{label}</dt><dd>{answer}</dd>" in page


def test_a_missing_message_gets_a_clear_404(therapist) -> None:
    for path in ["/inbox/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/inbox/messages/not-an-id"]:
        answer = therapist.get(path)
        assert answer.status == 404 and "No such message" in answer.text


def test_the_pages_need_a_session_and_a_link_comes_back_after_sign_in(aws, inbox) -> None:
    message_id = post(inbox)
    browser = Browser(inbox)
    for path in ["/inbox", f"/inbox/messages/{message_id}", "/inbox/export", f"/inbox/messages/{message_id}/delete"]:
        answer = browser.get(path)
        assert answer.status == 303 and answer.location.startswith("/inbox/login")
    assert browser.post(f"/inbox/messages/{message_id}/replied", {}).status == 303
    assert attribute(stored(aws, message_id), "inbox_state") == "new" and "history" not in stored(aws, message_id)
    first = browser.get(f"/inbox/messages/{message_id}")
    assert first.location == f"/inbox/login?next=/inbox/messages/{message_id}"
    from inbox_helpers import emailed_link, open_link, request_link

    assert request_link(browser, THERAPIST, f"/inbox/messages/{message_id}").status == 303
    assert open_link(browser, emailed_link(aws)).location == f"/inbox/messages/{message_id}"


# The actions.


def test_mark_replied_close_and_reopen_record_who_and_when(aws, inbox, therapist, caplog) -> None:
    caplog.set_level(logging.INFO)
    message_id = post(inbox)
    path = f"/inbox/messages/{message_id}"
    page = therapist.get(path)
    for action, state in [("replied", "replied"), ("closed", "closed"), ("reopened", "new")]:
        answer = therapist.post(f"{path}/{action}", csrf(page))
        assert answer.status == 303 and answer.location == f"{path}?done={action}"
        assert attribute(stored(aws, message_id), "inbox_state") == state
        page = therapist.get(answer.location)
        assert f"last changed by {THERAPIST}" in page.text
    item = stored(aws, message_id)
    assert [entry["M"]["action"]["S"] for entry in item["history"]["L"]] == ["replied", "closed", "reopened"]
    assert {entry["M"]["by"]["S"] for entry in item["history"]["L"]} == {THERAPIST}
    logged = " ".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert message_id in logged and THERAPIST not in logged and VALID["email"] not in logged


def test_an_action_the_state_no_longer_allows_changes_nothing(aws, inbox, therapist) -> None:
    message_id = post(inbox)
    page = therapist.get(f"/inbox/messages/{message_id}")
    assert therapist.post(f"/inbox/messages/{message_id}/replied", csrf(page)).status == 303
    again = therapist.post(f"/inbox/messages/{message_id}/replied", csrf(page))
    assert again.location.endswith("done=unchanged")
    assert len(stored(aws, message_id)["history"]["L"]) == 1


@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_an_action_without_the_session_csrf_token_is_refused_and_changes_nothing(
    aws, inbox, therapist, token: str | None
) -> None:
    message_id = post(inbox)
    spam_id = post(inbox, email="s@example.org", message="Spam", website="spam.example")
    fields = {} if token is None else {"csrf_token": token}
    for path in [f"/inbox/messages/{message_id}/replied", f"/inbox/messages/{message_id}/delete"]:
        answer = therapist.post(path, fields)
        assert answer.status == 403 and "cannot be accepted" in answer.text
    assert therapist.post(f"/inbox/messages/{spam_id}/not-spam", fields).status == 403
    assert attribute(stored(aws, message_id), "inbox_state") == "new" and "history" not in stored(aws, message_id)
    assert attribute(stored(aws, spam_id), "notify_status") == "spam" and len(aws.emails()) == 2


def test_an_action_on_a_missing_message_gets_a_404(aws, inbox, therapist) -> None:
    page = therapist.get("/inbox")
    for action in ["replied", "not-spam", "delete"]:
        answer = therapist.post(f"/inbox/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV/{action}", csrf(page))
        assert answer.status == 404 and "No such message" in answer.text


def test_not_spam_sends_the_alert_it_never_got(aws, inbox, therapist) -> None:
    spam_id = post(inbox, name="Real Person", email="real@example.org", message="Not spam", website="x.example")
    before = len(aws.emails())
    page = therapist.get(f"/inbox/messages/{spam_id}")
    assert "Not spam" in page.text and "Mark replied" not in page.text
    answer = therapist.post(f"/inbox/messages/{spam_id}/not-spam", csrf(page))
    assert answer.status == 303 and answer.location.endswith("done=alert-sent")
    assert len(aws.emails()) == before + 1 and aws.emails()[-1]["Reply-To"] == "Real Person <real@example.org>"
    item = stored(aws, spam_id)
    assert attribute(item, "notify_status") == "sent" and attribute(item, "state_by") == THERAPIST
    assert therapist.post(f"/inbox/messages/{spam_id}/not-spam", csrf(page)).location.endswith("done=unchanged")
    assert len(aws.emails()) == before + 1


def test_a_message_held_for_its_content_shows_why_and_can_be_let_through(aws, inbox, therapist) -> None:
    held_id = post(inbox, name="Growth Team", message="Look: [url=https://rank.example]rank[/url]")
    listed = therapist.get("/inbox?state=spam")
    assert held_id in listed.text and "Growth Team" in listed.text
    page = therapist.get(f"/inbox/messages/{held_id}")
    assert "held as spam" in page.text
    assert "links; a link written for forums (score " in page.text and "held from 5)" in page.text
    before = len(aws.emails())
    assert therapist.post(f"/inbox/messages/{held_id}/not-spam", csrf(page)).location.endswith("done=alert-sent")
    assert len(aws.emails()) == before + 1


def test_delete_asks_first_then_erases_the_message(aws, inbox, therapist) -> None:
    keep, erase = post(inbox, email="keep@example.org", message="Keep"), post(inbox, message="Erase")
    confirm = therapist.get(f"/inbox/messages/{erase}/delete")
    assert confirm.status == 200 and "Delete for good" in confirm.text and [i for i in aws.messages()] != []
    assert len(aws.messages()) == 2
    answer = therapist.submit(confirm, f"/inbox/messages/{erase}/delete")
    assert answer.status == 303 and answer.location == "/inbox?done=deleted"
    assert [item["pk"]["S"] for item in aws.messages()] == [f"MSG#{keep}"]
    assert "has been deleted" in therapist.get(answer.location).text
    assert therapist.get(f"/inbox/messages/{erase}").status == 404


def test_a_message_sent_again_after_its_first_was_deleted_is_stored_and_alerted(aws, inbox, therapist) -> None:
    # The first one's claim (which makes a retry one message) outlives it: it must not drop the second.
    first = post(inbox, message="Please call me back about sessions.")
    page = therapist.get(f"/inbox/messages/{first}/delete")
    assert therapist.post(f"/inbox/messages/{first}/delete", csrf(page)).status == 303
    before = len(aws.emails())
    second = post(inbox, message="Please call me back about sessions.")
    assert second != first and attribute(stored(aws, second), "notify_status") == "sent"
    assert len(aws.emails()) == before + 1


@pytest.mark.parametrize("path", ["/inbox", "/inbox/messages/{id}", "/inbox/export"])
def test_a_table_failing_under_the_message_pages_gets_the_inbox_s_503(aws, inbox, therapist, path: str) -> None:
    from botocore.stub import Stubber
    from contact_helpers import aws_clients

    message_id = post(inbox)
    (session,) = [item for item in aws.items() if item["pk"]["S"].startswith("SESSION#")]
    with Stubber(aws_clients().dynamodb) as stubber:
        stubber.add_response("get_item", {"Item": session})  # signed in: then the pages' own call fails
        operation = "get_item" if "messages" in path else "query"
        stubber.add_client_error(operation, service_error_code="ProvisionedThroughputExceededException")
        answer = therapist.get(path.format(id=message_id))
    assert answer.status == 503 and "try again in a minute" in answer.text
    assert answer.header("Cache-Control") == "no-store" and answer.header("Retry-After") == "60"


# The export.


def test_export_gives_the_filtered_list_as_spreadsheet_safe_csv(aws, inbox, therapist) -> None:
    post(inbox, name="=HYPERLINK(1)", email="a@example.org", message="-2+3")
    post(inbox, name="Spammer", email="s@example.org", message="Buy", website="spam.example")
    answer = therapist.get("/inbox/export?state=new")
    assert answer.status == 200 and answer.header("Content-Type").startswith("text/csv")
    assert answer.header("Content-Disposition").startswith('attachment; filename="messages-new-')
    assert answer.header("Cache-Control") == "no-store"
    (row,) = list(csv.DictReader(io.StringIO(answer.text)))
    assert row["name"] == "'=HYPERLINK(1)" and row["message"] == "'-2+3" and row["inbox_state"] == "new"
    assert "ip_hash" not in row
    assert len(list(csv.DictReader(io.StringIO(therapist.get("/inbox/export").text)))) == 2


# The minimal alert's link.


def test_the_minimal_alerts_link_leads_to_the_message_through_sign_in(aws, make_handler) -> None:
    from inbox_helpers import emailed_link, open_link, path_of, request_link

    handler = make_handler(NOTIFY_DETAIL="minimal")
    message_id = post(handler)
    (link,) = re.findall(r"https://\S+/inbox/messages/\S+", aws.emails()[0].get_body(("plain",)).get_content())
    browser = Browser(handler)
    first = browser.get(path_of(link))
    assert first.status == 303 and first.location == f"/inbox/login?next=/inbox/messages/{message_id}"
    assert request_link(browser, THERAPIST, f"/inbox/messages/{message_id}").status == 303
    signed_in = open_link(browser, emailed_link(aws))
    assert signed_in.location == f"/inbox/messages/{message_id}"
    page = browser.get(signed_in.location)
    assert page.status == 200 and VALID["message"].split("\n")[1] in unescape(page.text)
