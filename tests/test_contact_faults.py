"""Nothing lost: SES failing, DynamoDB failing, both, racing retries, and the retry function.

Each test runs on moto's DynamoDB and on DynamoDB Local, but those where DynamoDB never
answers for itself (its answers stubbed, or every call timed out): those run on moto alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from apigw import json_body, response_header
from botocore.stub import Stubber
from conftest import SENDER
from contact_helpers import VALID, attribute, aws_clients, current_app, post_json

from handler import aws as aws_module
from handler.storage import iso_time

pytestmark = pytest.mark.dynamodb_engines
NOT_THE_ENGINE = pytest.mark.moto_only("DynamoDB's answers are stubbed or never come: no engine is asked")


@pytest.fixture
def contact(aws, make_handler):
    return make_handler()


def unverify_sender(aws) -> None:
    """moto rejects mail from an unverified identity with MessageRejected, as SES does."""
    aws.ses.delete_identity(Identity=SENDER)


def make_due_now(aws, message_id: str) -> None:
    """Time passing: move the message's next attempt into the past."""
    aws.dynamodb.update_item(
        TableName="contact-messages",
        Key={"pk": {"S": f"MSG#{message_id}"}, "sk": {"S": "MSG"}},
        UpdateExpression="SET pending_sk = :due",
        ExpressionAttributeValues={":due": {"S": f"{iso_time(time.time() - 1)}#{message_id}"}},
    )


def retry_entry_point():
    """``handler.retry.lambda_handler``, imported afresh under the test's environment."""
    import handler.retry

    return importlib.reload(handler.retry).lambda_handler


SCHEDULED_EVENT = {
    "version": "0",
    "id": "b7e2a1c4-3f6d-4e8a-9b1c-2d3e4f5a6b7c",
    "detail-type": "Scheduled Event",
    "source": "aws.scheduler",
    "account": "123456789012",
    "time": "2026-11-26T05:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/retry"],
    "detail": {},
}


def test_ses_failing_still_answers_201_and_records_the_failure(aws, contact) -> None:
    unverify_sender(aws)
    result = post_json(contact, VALID)
    assert result["statusCode"] == 201
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "retrying"
    assert attribute(item, "notify_attempts") == 1
    assert attribute(item, "last_error") == "MessageRejected"
    assert attribute(item, "pending_pk") == "PENDING"
    assert aws.emails() == []


def test_the_retry_function_sends_it_once_ses_is_back(aws, contact) -> None:
    unverify_sender(aws)
    message_id = json_body(post_json(contact, VALID))["id"]
    retry = retry_entry_point()
    # Not yet due: the first retry waits a minute.
    assert retry(SCHEDULED_EVENT, None) == {"due": 0, "sent": 0, "failed": 0, "skipped": 0}
    make_due_now(aws, message_id)
    assert retry(SCHEDULED_EVENT, None)["failed"] == 1  # SES still down
    item = aws.messages()[0]
    assert attribute(item, "notify_attempts") == 2 and attribute(item, "notify_status") == "retrying"
    aws.ses.verify_email_identity(EmailAddress=SENDER)
    make_due_now(aws, message_id)
    assert retry(SCHEDULED_EVENT, None) == {"due": 1, "sent": 1, "failed": 0, "skipped": 0}
    item = aws.messages()[0]
    assert attribute(item, "notify_status") == "sent" and attribute(item, "notify_attempts") == 3
    assert "pending_pk" not in item
    (alert,) = aws.emails()
    assert message_id in alert.get_body(("plain",)).get_content()
    # Nothing left to do: a later run sends nothing twice.
    assert retry(SCHEDULED_EVENT, None)["due"] == 0
    assert len(aws.emails()) == 1


def test_a_message_that_cannot_be_sent_does_not_stop_the_others(aws, contact, caplog) -> None:
    unverify_sender(aws)
    broken = json_body(post_json(contact, VALID))["id"]
    fine = json_body(post_json(contact, {**VALID, "message": "Another message"}))["id"]
    aws.dynamodb.update_item(  # edited by hand into something no alert can say
        TableName="contact-messages",
        Key={"pk": {"S": f"MSG#{broken}"}, "sk": {"S": "MSG"}},
        UpdateExpression="SET preferred_contact = :fax",
        ExpressionAttributeValues={":fax": {"S": "fax"}},
    )
    for message_id in (broken, fine):
        make_due_now(aws, message_id)
    aws.ses.verify_email_identity(EmailAddress=SENDER)
    counts = retry_entry_point()(SCHEDULED_EVENT, None)
    assert counts == {"due": 2, "sent": 1, "failed": 1, "skipped": 0}
    (alert,) = aws.emails()
    assert fine in alert.get_body(("plain",)).get_content()
    (record,) = [r for r in caplog.records if r.getMessage() == "UNHANDLED_ERROR"]
    assert record.message_id == broken and record.error_type == "KeyError"
    item = next(item for item in aws.messages() if attribute(item, "id") == broken)
    assert attribute(item, "notify_status") == "retrying" and attribute(item, "notify_attempts") == 2
    assert attribute(item, "last_error") == "KeyError"


BROKEN_BY_HAND = {
    "an alert cannot be written": ("SET preferred_contact = :bad", {":bad": {"S": "fax"}}),
    "no message can be read": ("REMOVE #name", None),
    "neither, nor its attempts": ("REMOVE #name SET notify_attempts = :bad", {":bad": {"S": "many"}}),
}


@pytest.mark.parametrize("broken", BROKEN_BY_HAND)
def test_a_message_that_can_never_be_sent_reaches_the_permanent_failure(aws, make_handler, caplog, broken) -> None:
    """Whatever fails, each attempt counts: the message cannot loop in the retry function
    without ever reaching NOTIFICATION_FAILED_PERMANENTLY and its alarm."""
    handler = make_handler(NOTIFY_MAX_ATTEMPTS="3")
    unverify_sender(aws)
    message_id = json_body(post_json(handler, VALID))["id"]
    aws.ses.verify_email_identity(EmailAddress=SENDER)
    expression, values = BROKEN_BY_HAND[broken]
    aws.dynamodb.update_item(
        TableName="contact-messages",
        Key={"pk": {"S": f"MSG#{message_id}"}, "sk": {"S": "MSG"}},
        UpdateExpression=expression,
        **({"ExpressionAttributeNames": {"#name": "name"}} if "#name" in expression else {}),
        **({"ExpressionAttributeValues": values} if values else {}),
    )
    retry = retry_entry_point()
    for _ in range(5):
        make_due_now(aws, message_id)
        retry(SCHEDULED_EVENT, None)
        if "pending_pk" not in aws.messages()[0]:
            break
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "failed" and "pending_pk" not in item
    assert attribute(item, "notify_attempts") == 3
    (record,) = [r for r in caplog.records if r.getMessage() == "NOTIFICATION_FAILED_PERMANENTLY"]
    assert record.message_id == message_id
    assert aws.emails() == []


def test_an_unforeseen_error_in_the_first_alert_is_a_failed_attempt_not_a_500(aws, contact, caplog) -> None:
    """Not SES refusing, but something no one foresaw raised on the way: the visitor's
    message is stored, so they get 201, and the retry function sends the alert later."""
    ses = aws_clients().ses

    def unforeseen(**_):
        raise RuntimeError("something no one foresaw")

    ses.meta.events.register_first("before-send.ses.SendRawEmail", unforeseen)
    try:
        result = post_json(contact, VALID)
    finally:
        ses.meta.events.unregister("before-send.ses.SendRawEmail", unforeseen)
    assert result["statusCode"] == 201
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "retrying" and attribute(item, "notify_attempts") == 1
    assert attribute(item, "last_error") == "RuntimeError"
    (record,) = [r for r in caplog.records if r.getMessage() == "UNHANDLED_ERROR"]
    assert record.error_type == "RuntimeError" and record.message_id == attribute(item, "id")
    make_due_now(aws, attribute(item, "id"))
    assert retry_entry_point()(SCHEDULED_EVENT, None)["sent"] == 1
    assert len(aws.emails()) == 1


def test_after_the_last_attempt_the_message_is_marked_failed_and_an_error_logged(aws, make_handler, caplog) -> None:
    handler = make_handler(NOTIFY_MAX_ATTEMPTS="2")
    unverify_sender(aws)
    message_id = json_body(post_json(handler, VALID))["id"]
    make_due_now(aws, message_id)
    with caplog.at_level("INFO"):
        assert retry_entry_point()(SCHEDULED_EVENT, None)["failed"] == 1
    item = aws.messages()[0]
    assert attribute(item, "notify_status") == "failed" and attribute(item, "notify_attempts") == 2
    assert "pending_pk" not in item
    errors = [
        r for r in caplog.records if r.levelname == "ERROR" and r.getMessage() == "NOTIFICATION_FAILED_PERMANENTLY"
    ]
    assert len(errors) == 1 and errors[0].message_id == message_id


def test_a_crash_between_storing_and_notifying_is_caught_by_the_retry(aws, contact, monkeypatch) -> None:
    """The function dies right after the transaction: the message waits under its lease, then is sent."""
    from handler import delivery

    def crash(*args, **kwargs):
        raise SystemExit("the function was stopped")

    with monkeypatch.context() as patched, pytest.raises(SystemExit):
        patched.setattr(delivery, "deliver", crash)
        post_json(contact, VALID)
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "pending" and aws.emails() == []
    retry = retry_entry_point()
    assert retry(SCHEDULED_EVENT, None)["due"] == 0  # the lease has not run out yet
    make_due_now(aws, attribute(item, "id"))
    assert retry(SCHEDULED_EVENT, None)["sent"] == 1
    assert len(aws.emails()) == 1


def test_ses_throttling_is_retried_later(aws, contact) -> None:
    ses = aws_clients().ses
    with Stubber(ses) as stub:
        for _ in range(3):
            stub.add_client_error("send_raw_email", service_error_code="Throttling", http_status_code=400)
        assert post_json(contact, VALID)["statusCode"] == 201
    item = aws.messages()[0]
    assert attribute(item, "last_error") == "Throttling" and attribute(item, "notify_status") == "retrying"


@NOT_THE_ENGINE
def test_dynamodb_throttling_sends_the_whole_message_by_email_and_answers_202(aws, make_handler) -> None:
    handler = make_handler(NOTIFY_DETAIL="minimal")  # the fallback email is full regardless
    with Stubber(aws_clients().dynamodb) as stub:
        for _ in range(3):
            stub.add_client_error(
                "transact_write_items",
                service_error_code="ProvisionedThroughputExceededException",
                http_status_code=400,
            )
        result = post_json(handler, VALID)
    assert result["statusCode"] == 202
    body = json_body(result)
    assert body["status"] == "received" and body["id"]
    assert aws.items() == []
    (alert,) = aws.emails()
    text = alert.get_body(("plain",)).get_content()
    assert VALID["message"] in text and VALID["email"] in text and body["id"] in text
    assert "could not be saved" in text


@NOT_THE_ENGINE
def test_dynamodb_and_ses_both_failing_is_a_503_asking_to_try_again(aws, contact) -> None:
    unverify_sender(aws)
    with Stubber(aws_clients().dynamodb) as stub:
        for _ in range(3):
            stub.add_client_error(
                "transact_write_items", service_error_code="InternalServerError", http_status_code=500
            )
        result = post_json(contact, VALID)
    assert result["statusCode"] == 503
    body = json_body(result)
    assert body["error"] == "unavailable" and "try again" in body["message"]
    assert response_header(result, "Retry-After")
    assert aws.items() == [] and aws.emails() == []


@NOT_THE_ENGINE
def test_a_transaction_conflict_is_tried_again(aws, contact) -> None:
    """DynamoDB cancels a transaction that races another on the same item; moto cannot, so Stubber does."""
    conflict = {"CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}, {"Code": "None"}]}
    with Stubber(aws_clients().dynamodb) as stub:
        stub.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            http_status_code=400,
            modeled_fields=conflict,
        )
        stub.add_response("transact_write_items", {})
        stub.add_response("update_item", {})
        result = post_json(contact, VALID)
        stub.assert_no_pending_responses()
    assert result["statusCode"] == 201
    assert len(aws.emails()) == 1


@pytest.fixture
def serialised_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DynamoDB applies each request atomically; moto under threads does not. Give moto a lock,
    so that racing requests meet the same guarantees they would in AWS."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("transact_write_items", "put_item", "update_item", "get_item", "query", "scan"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)
    yield


def test_racing_retries_with_one_idempotency_key_store_and_send_once(aws, contact, serialised_moto) -> None:
    current_app()  # built before the threads start
    results: list[dict] = []
    barrier = threading.Barrier(8)

    def submit() -> None:
        barrier.wait()
        results.append(post_json(contact, VALID, headers={"Idempotency-Key": "double-click-1"}))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r["statusCode"] for r in results] == [201] * 8
    assert len({json_body(r)["id"] for r in results}) == 1
    assert len(aws.messages()) == 1 and len(aws.emails()) == 1


def test_racing_retries_without_a_key_store_and_send_once(aws, contact, serialised_moto) -> None:
    results: list[dict] = []
    barrier = threading.Barrier(6)

    def submit() -> None:
        barrier.wait()
        results.append(post_json(contact, VALID))

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({json_body(r)["id"] for r in results}) == 1
    assert len(aws.messages()) == 1 and len(aws.emails()) == 1


def conflict_error(stub: Stubber, codes: tuple[str, ...] = ("None", "TransactionConflict", "None")) -> None:
    """A transaction cancelled with these reasons, one per item (by default: the claim conflicting)."""
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


@NOT_THE_ENGINE
def test_conflicts_that_never_clear_fall_back_to_email(aws, contact) -> None:
    with Stubber(aws_clients().dynamodb) as stub:
        for _ in range(3):
            conflict_error(stub)
        result = post_json(contact, VALID)
        stub.assert_no_pending_responses()
    assert result["statusCode"] == 202
    assert VALID["message"] in aws.emails()[0].get_body(("plain",)).get_content()


@NOT_THE_ENGINE
def test_a_text_whose_count_keeps_conflicting_is_held_not_emailed_in_full(aws, contact) -> None:
    # Many networks posting one campaign text at once all update its repeat count (handler/repeats.py).
    campaign = "Dear owner, we reviewed your site and can double your clients this month with our proven plan"
    with Stubber(aws_clients().dynamodb) as stub:
        for _ in range(3):  # message, claim, rate, then the text's count
            conflict_error(stub, ("None", "None", "None", "TransactionConflict"))
        stub.add_response("transact_write_items", {})  # stored held, without the count
        result = post_json(contact, {**VALID, "message": campaign})
        stub.assert_no_pending_responses()
    assert result["statusCode"] == 201 and aws.emails() == []


def test_a_transaction_whose_answer_was_lost_is_stored_alerted_and_counted_once(aws, contact) -> None:
    """The transaction committed, its answer was lost, and botocore sent it again. DynamoDB
    (and DynamoDB Local) answers the repeat with success, by its ClientRequestToken; moto
    ignores the token and cancels it, our own claim in the way. Either way: one message,
    alerted at once (not left for the retry function), counted once against the rate limit."""
    lost: list[int] = []

    def lose_the_first_answer(attempts: int, **_: Any) -> int | None:
        if attempts > 1:
            return None
        lost.append(attempts)
        return 0  # seconds before botocore sends it again

    events = aws_clients().dynamodb.meta.events
    events.register_first("needs-retry.dynamodb.TransactWriteItems", lose_the_first_answer)
    try:
        result = post_json(contact, VALID)
    finally:
        events.unregister("needs-retry.dynamodb.TransactWriteItems", lose_the_first_answer)
    assert result["statusCode"] == 201 and lost == [1]
    (item,) = aws.messages()
    assert attribute(item, "id") == json_body(result)["id"] and attribute(item, "notify_status") == "sent"
    assert len(aws.emails()) == 1
    (rate,) = [item for item in aws.items() if item["pk"]["S"].startswith("RATE#")]
    received = dt.datetime.fromisoformat(attribute(item, "received_at")).timestamp()
    times = [attribute(rate, f"t{n}") for n in range(5)]
    assert abs(times[0] - received * 1000) < 5 and times[1:] == [0, 0, 0, 0]  # one message counted


@contextlib.contextmanager
def every_answer_lost(client: Any) -> Iterator[list[int]]:
    """The transaction reaches DynamoDB, which commits it, but its answer is lost: botocore
    sends it again, and that answer is lost too (a read timeout)."""
    from botocore.exceptions import ReadTimeoutError

    lost: list[int] = []

    def lose_the_answer(attempts: int, request_dict: dict, **_: Any) -> int:
        lost.append(attempts)
        if attempts < aws_module.MAX_ATTEMPTS:
            return 0  # seconds before botocore sends it again
        raise ReadTimeoutError(endpoint_url=request_dict["url"])

    client.meta.events.register_first("needs-retry.dynamodb.TransactWriteItems", lose_the_answer)
    try:
        yield lost
    finally:
        client.meta.events.unregister("needs-retry.dynamodb.TransactWriteItems", lose_the_answer)


def alert_text(alert: Any) -> str:
    return alert.get_body(("plain",)).get_content()


def test_a_message_stored_though_every_answer_was_lost_is_alerted_once(aws, contact) -> None:
    """A quick read finds the message stored: it goes on as stored (201, alerted at once,
    marked sent), never as "the only copy", and the retry function sends nothing more."""
    with every_answer_lost(aws_clients().dynamodb) as lost:
        result = post_json(contact, VALID)
    assert lost == [1, 2] and result["statusCode"] == 201
    (item,) = aws.messages()
    assert attribute(item, "id") == json_body(result)["id"] and attribute(item, "notify_status") == "sent"
    (alert,) = aws.emails()
    assert "only copy" not in alert_text(alert) and "not have been saved" not in alert_text(alert)
    make_due_now(aws, attribute(item, "id"))
    assert retry_entry_point()(SCHEDULED_EVENT, None)["due"] == 0
    assert len(aws.emails()) == 1


def test_when_dynamodb_cannot_say_whether_it_stored_the_alert_does_not_claim_the_only_copy(aws, contact) -> None:
    """The quick read gets no answer either: the email carries the whole message, saying it
    may not have been saved; then one try to record it as sent, so that the retry function
    does not alert a message that was stored after all."""
    clients = aws_clients()
    with every_answer_lost(clients.dynamodb), never_answering(clients.quick_dynamodb, "dynamodb.GetItem") as reads:
        result = post_json(contact, VALID)
    assert result["statusCode"] == 202 and len(reads) == 1  # one attempt, no retry
    (alert,) = aws.emails()
    assert "may not have been saved" in alert_text(alert) and "only copy" not in alert_text(alert)
    assert VALID["message"] in alert_text(alert) and VALID["email"] in alert_text(alert)
    (item,) = aws.messages()  # it was stored
    assert attribute(item, "notify_status") == "sent" and "pending_pk" not in item
    make_due_now(aws, attribute(item, "id"))
    assert retry_entry_point()(SCHEDULED_EVENT, None)["due"] == 0
    assert len(aws.emails()) == 1


def test_when_dynamodb_answers_nothing_more_a_stored_message_may_be_alerted_twice(aws, contact) -> None:
    """What remains possible: neither the read nor the record of the alert is answered. Then
    the retry function alerts the stored message again once its lease ends: twice, never not at all."""
    clients = aws_clients()
    with (
        every_answer_lost(clients.dynamodb),
        never_answering(clients.quick_dynamodb, "dynamodb.GetItem"),
        never_answering(clients.quick_dynamodb, "dynamodb.UpdateItem"),
    ):
        assert post_json(contact, VALID)["statusCode"] == 202
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "pending" and len(aws.emails()) == 1
    make_due_now(aws, attribute(item, "id"))
    assert retry_entry_point()(SCHEDULED_EVENT, None)["sent"] == 1
    assert len(aws.emails()) == 2


@NOT_THE_ENGINE
def test_spam_is_emailed_marked_when_it_cannot_be_stored(aws, contact) -> None:
    """A filled honeypot is stored, never dropped: with DynamoDB down it goes by email,
    marked as suspected spam in the body (the subject as for any message), since a
    person's browser may have filled the hidden field."""
    with Stubber(aws_clients().dynamodb) as stub:
        for _ in range(aws_module.MAX_ATTEMPTS):
            stub.add_client_error(
                "transact_write_items", service_error_code="InternalServerError", http_status_code=500
            )
        result = post_json(contact, {**VALID, "website": "http://spam.example"})
    assert result["statusCode"] == 202 and json_body(result)["status"] == "received"
    assert aws.items() == []
    (alert,) = aws.emails()
    assert alert["Subject"] == f"New enquiry from {VALID['name']}"
    text = alert_text(alert)
    assert "Suspected spam" in text and "could not be saved" in text
    assert VALID["message"] in text and VALID["email"] in text


def test_a_due_message_listed_by_two_retry_runs_is_sent_once(aws, contact, serialised_moto) -> None:
    """Two runs list the same due messages (as a run does that reads the index before it
    has caught up with another's lease): the conditional lease gives each message to one."""
    unverify_sender(aws)
    ids = [json_body(post_json(contact, {**VALID, "message": f"Message {n}"}))["id"] for n in range(3)]
    for message_id in ids:
        make_due_now(aws, message_id)
    aws.ses.verify_email_identity(EmailAddress=SENDER)
    retry = retry_entry_point()
    clients = importlib.import_module("handler.retry").app.extensions["aws"]
    clients.warm_up()
    both_listed = threading.Barrier(2, timeout=30)
    clients.dynamodb.meta.events.register("after-call.dynamodb.Query", lambda **_: both_listed.wait())
    counts: list[dict[str, int]] = []
    runs = [threading.Thread(target=lambda: counts.append(retry(SCHEDULED_EVENT, None))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert [run["due"] for run in counts] == [3, 3]
    assert sum(run["sent"] for run in counts) == 3 and sum(run["skipped"] for run in counts) == 3
    assert len(aws.emails()) == 3
    assert {(attribute(item, "notify_status"), attribute(item, "notify_attempts")) for item in aws.messages()} == {
        ("sent", 2)
    }


@contextlib.contextmanager
def never_answering(client: Any, operation: str) -> Iterator[list[str]]:
    """Every attempt of ``operation`` (``service.Operation``) times out reading, as
    an AWS endpoint that accepts the connection and then says nothing."""
    from botocore.exceptions import ReadTimeoutError

    attempts: list[str] = []

    def never_answers(request: Any, **_: Any) -> None:
        attempts.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register_first(f"before-send.{operation}", never_answers)
    try:
        yield attempts
    finally:
        client.meta.events.unregister(f"before-send.{operation}", never_answers)


def test_a_slow_ses_near_the_time_limit_leaves_the_message_stored_for_the_retry(aws, contact) -> None:
    """SES answers nothing until the read timeout, on every attempt: the message is kept, marked,
    and sent by the retry function once SES answers again."""
    started = time.monotonic()
    with never_answering(aws_clients().ses, "ses.SendRawEmail") as attempts:
        result = post_json(contact, VALID)
    assert result["statusCode"] == 201
    assert len(attempts) == aws_module.MAX_ATTEMPTS  # botocore's standard mode, then it gives up
    assert time.monotonic() - started < 10  # within the function's timeout, even with real 3 s reads
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "retrying" and attribute(item, "last_error") == "ReadTimeoutError"
    make_due_now(aws, attribute(item, "id"))
    assert retry_entry_point()(SCHEDULED_EVENT, None)["sent"] == 1
    assert len(aws.emails()) == 1


@NOT_THE_ENGINE
def test_a_dynamodb_that_never_answers_still_gets_the_message_to_the_therapist(aws, contact) -> None:
    """Every DynamoDB attempt times out: botocore gives up after its attempts, and the
    email carries the whole message (the time this takes fits the function's timeout:
    test_template checks the sum)."""
    with never_answering(aws_clients().dynamodb, "dynamodb.TransactWriteItems") as attempts:
        result = post_json(contact, VALID)
    assert result["statusCode"] == 202 and len(attempts) == aws_module.MAX_ATTEMPTS
    assert aws.messages() == []
    (alert,) = aws.emails()
    assert VALID["message"] in alert.get_body(("plain",)).get_content()


def test_a_function_stopped_by_its_timeout_during_the_ses_call_is_caught_by_the_retry(aws, contact) -> None:
    """Lambda ends the function mid-call when its time is up: nothing after the transaction ran."""
    ses = aws_clients().ses

    def time_is_up(**_):
        raise SystemExit("Task timed out after 10.00 seconds")

    ses.meta.events.register_first("before-send.ses.SendRawEmail", time_is_up)
    with pytest.raises(SystemExit):
        post_json(contact, VALID)
    ses.meta.events.unregister("before-send.ses.SendRawEmail", time_is_up)
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "pending" and aws.emails() == []
    make_due_now(aws, attribute(item, "id"))
    assert retry_entry_point()(SCHEDULED_EVENT, None)["sent"] == 1
    assert len(aws.emails()) == 1
