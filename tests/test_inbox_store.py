"""The therapist's state on a message, and the newest-first list, in the contact table: judged on
moto and on DynamoDB Local."""

from __future__ import annotations

import itertools

import pytest
from conftest import TABLE, THERAPIST

from handler.message import InboxState, Message, NotifyStatus, Shown
from handler.storage import Changed, Claim, Limits, MessageStore, Unchanged, iso_time, new_id

pytestmark = pytest.mark.dynamodb_engines
LIMITS = Limits(retention_days=0, rate_limit_count=0, rate_limit_window_seconds=3600)  # no limit
NOW = 1_790_000_000.0


def store_message(store: MessageStore, seconds: float, status: NotifyStatus = NotifyStatus.SENT, **fields) -> Message:
    moment = NOW + seconds
    message = Message(
        id=new_id(moment),
        received_at=iso_time(moment),
        notify_status=status,
        name=fields.pop("name", f"Visitor {seconds}"),
        email="visitor@example.org",
        preferred_contact="email",
        message="Hello",
        consent_version="1",
        ip_hash=f"hash{seconds}",
        **fields,
    )
    claim = Claim(key=message.id, content_hash=message.id, window_seconds=60)
    store.record(message, claim, LIMITS, now=moment)
    return message


@pytest.fixture
def store(aws) -> MessageStore:
    return MessageStore(aws.dynamodb, TABLE)


def test_the_recent_list_is_newest_first_and_resumes_after_any_message(store: MessageStore) -> None:
    stored = [store_message(store, n) for n in range(7)]
    newest_first = [m.id for m in reversed(stored)]
    assert [m.id for m in store.recent()] == newest_first
    third = list(itertools.islice(store.recent(), 3))[-1]
    after = f"{third.received_at}#{third.id}"
    assert [m.id for m in store.recent(after=after)] == newest_first[3:]


def test_the_list_filters_by_the_state_shown(store: MessageStore) -> None:
    new = store_message(store, 1)
    replied = store_message(store, 2)
    closed = store_message(store, 3)
    spam = store_message(store, 4, NotifyStatus.SPAM)
    undelivered = store_message(store, 5, NotifyStatus.FAILED)
    replied_undelivered = store_message(store, 6, NotifyStatus.FAILED)
    for message, action in [(replied, "replied"), (closed, "closed"), (replied_undelivered, "replied")]:
        assert isinstance(store.change_state(message.id, action, THERAPIST, NOW), Changed)
    expected = {
        Shown.NEW: [new],
        Shown.REPLIED: [replied_undelivered, replied],
        Shown.CLOSED: [closed],
        Shown.SPAM: [spam],
        Shown.UNDELIVERED: [undelivered],
    }
    for shown, messages in expected.items():
        found = list(store.recent(shown=shown))
        assert [m.id for m in found] == [m.id for m in messages], shown
        assert all(m.shown == shown for m in found), shown


def test_the_filter_pages_past_many_messages_that_do_not_match(store: MessageStore, monkeypatch) -> None:
    monkeypatch.setattr("handler.storage.RECENT_PAGE", 2)
    wanted = store_message(store, 0, NotifyStatus.SPAM)
    for n in range(1, 6):
        store_message(store, n)
    assert [m.id for m in store.recent(shown=Shown.SPAM)] == [wanted.id]


def test_a_change_of_state_is_conditional_and_recorded_with_who_and_when(aws, store: MessageStore) -> None:
    message = store_message(store, 0)
    changed = store.change_state(message.id, "replied", THERAPIST, NOW + 60)
    assert isinstance(changed, Changed)
    assert changed.message.inbox_state == InboxState.REPLIED and changed.message.state_by == THERAPIST
    assert changed.message.state_at == iso_time(NOW + 60)
    again = store.change_state(message.id, "replied", "other@practice.example", NOW + 120)
    assert isinstance(again, Unchanged) and again.message.state_by == THERAPIST
    assert isinstance(store.change_state(message.id, "reopened", THERAPIST, NOW + 180), Changed)
    (item,) = aws.messages()
    history = [(e["M"]["action"]["S"], e["M"]["by"]["S"], e["M"]["at"]["S"]) for e in item["history"]["L"]]
    assert history == [("replied", THERAPIST, iso_time(NOW + 60)), ("reopened", THERAPIST, iso_time(NOW + 180))]
    assert store.change_state(new_id(), "closed", THERAPIST, NOW) is None


def test_not_spam_makes_the_alert_due_once(store: MessageStore) -> None:
    spam = store_message(store, 0, NotifyStatus.SPAM)
    changed = store.not_spam(spam.id, THERAPIST, NOW)
    assert isinstance(changed, Changed) and changed.message.notify_status == NotifyStatus.PENDING
    assert [due.message_id for due in store.due(NOW + 3600)] == [spam.id]
    assert isinstance(store.not_spam(spam.id, THERAPIST, NOW), Unchanged)
    assert store.not_spam(new_id(), THERAPIST, NOW) is None


def test_delete_erases_the_message_and_says_if_there_was_none(aws, store: MessageStore) -> None:
    message = store_message(store, 0)
    assert store.delete(message.id) is True
    assert aws.messages() == [] and store.get(message.id) is None
    assert store.delete(message.id) is False
