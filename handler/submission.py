"""What happens to one contact submission, decided here, knowing nothing of HTTP or Flask.

Order of events for a valid message: one DynamoDB transaction stores it with
its duplicate claim and rate-limit count, SES alerts the therapist, and one
update records that. If SES fails the visitor still gets 201 and the retry
function takes over. If the transaction fails, one quick read asks whether it
stored the message after all (its answer lost); if not, or if DynamoDB cannot
say, the whole message goes by email and the visitor gets 202; only if both
fail does the visitor get 503, asking them to try again. A filled honeypot, or
a content score over the threshold (handler/spam.py), holds a message as
suspected spam: stored (so that a person wrongly suspected is not lost), shown
in the inbox and counted in the day's digest, answered like a success, but
not alerted; when it cannot be stored, it goes by email too, marked so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from handler import delivery, notification, ratelimit, repeats, spam, turnstile
from handler.aws import AwsClients
from handler.config import Settings
from handler.message import Message, NotifyStatus
from handler.secrets import Secrets
from handler.storage import (
    Claim,
    Duplicate,
    Limits,
    MessageStore,
    RateLimited,
    Recorded,
    Repeated,
    StorageUnavailable,
    iso_time,
    keyed_hash,
    new_id,
)
from handler.validation import TURNSTILE_FIELD, validate

log = logging.getLogger(__name__)

# Logged when DynamoDB and SES both failed: nothing kept, the visitor asked to try again.
CONTACT_NOT_RECEIVED = "CONTACT_NOT_RECEIVED"


@dataclass(frozen=True)
class Submission:
    """A contact form as it arrived: its fields, read but not yet checked, and what the request says beside them."""

    data: dict[str, Any]
    idempotency_key: str | None
    client_address: str
    user_agent: str | None
    source_page: str | None


@dataclass(frozen=True)
class Received:
    message_id: str
    stored: bool = True  # False: DynamoDB failed or could not say, and the alert email carries the message
    outside_state: str | None = None  # the visitor's state, where LICENSED_STATES says the practice is not


@dataclass(frozen=True)
class Invalid:
    fields: dict[str, str]  # the code of what is wrong, by field


@dataclass(frozen=True)
class KeyReused:
    """The Idempotency-Key was already used for another message."""


@dataclass(frozen=True)
class NotReceived:
    """DynamoDB and SES both failed: nothing was kept."""


Outcome = Received | Invalid | RateLimited | KeyReused | NotReceived


@dataclass
class Pace:
    """How long alerting takes on this instance, as a moving average. A held message waits about
    as long before its answer, so that the answer's time does not tell a sender it was held
    (else a spammer could tune their text against the score, one request a try)."""

    seconds: float = 0.05

    def learn(self, seconds: float) -> None:
        self.seconds += (seconds - self.seconds) / 8

    def wait(self) -> None:
        time.sleep(self.seconds * random.uniform(0.8, 1.2))


ALERTING = Pace()


def receive(submission: Submission, settings: Settings, keys: Secrets, aws: AwsClients) -> Outcome:
    """Check, store and alert; the outcome says what to answer. A visitor in a state the
    practice is not licensed in is received like any other, and told they may be referred."""
    fields, errors = validate(submission.data, settings.form)
    if errors:
        return Invalid(errors)
    outcome = accept(submission, fields, settings, keys, aws)
    state = fields["answers"].get("state")
    if isinstance(outcome, Received) and settings.form.refers(state):
        return dataclasses.replace(outcome, outside_state=state)
    return outcome


def accept(
    submission: Submission, fields: dict[str, Any], settings: Settings, keys: Secrets, aws: AwsClients
) -> Outcome:
    """Store and alert a valid submission."""
    started = time.perf_counter()
    now = time.time()
    claim = Claim.of(keys.ip_hash_secret, fields["email"], fields["message"], submission.idempotency_key)
    store = MessageStore(aws.dynamodb, settings.contact_table_name)
    turnstile_verdict = check_turnstile(submission, settings, keys, store, claim, now)
    if turnstile_verdict is not None and not isinstance(turnstile_verdict, str):
        return turnstile_verdict

    message = new_message(submission, fields, settings, keys, turnstile_verdict, now)
    limits = Limits(settings.retention_days, settings.rate_limit_count, settings.rate_limit_window_seconds)
    try:
        message, outcome = record(store, message, claim, limits, keys, now)
    except StorageUnavailable:
        # Perhaps only its answer was lost (a read timeout after it committed): ask.
        quick = MessageStore(aws.quick_dynamodb, settings.contact_table_name)
        saved = quick.holds(message.id)
        if saved is not True:
            return unstored(message, settings, aws.ses, quick, saved, started)
        log.warning("contact stored, though DynamoDB's answer was lost", extra={"message_id": message.id})
        outcome = Recorded(message.id)
    if not isinstance(outcome, Recorded):
        return not_recorded(outcome, message.id)
    if message.spam:
        log.info("contact stored as spam", extra={"message_id": message.id, "spam_reasons": message.spam_reasons})
        ALERTING.wait()
        return Received(message.id)

    alerting = time.perf_counter()
    sent = delivery.deliver(message, store, aws.ses, settings.alert)
    if settings.send_acknowledgement:
        delivery.acknowledge(message, aws.ses, settings.alert)
    ALERTING.learn(time.perf_counter() - alerting)
    log.info(
        "contact received",
        extra={"message_id": message.id, "notified": sent, "duration_ms": milliseconds_since(started)},
    )
    return Received(message.id)


def check_turnstile(
    submission: Submission, settings: Settings, keys: Secrets, store: MessageStore, claim: Claim, now: float
) -> str | Outcome | None:
    """``passed``, or ``unverified`` (Cloudflare could not say), or else the outcome that ends
    the submission; None when the check is off."""
    secret = keys.turnstile_secret
    if secret is None:
        return None
    token = submission.data.get(TURNSTILE_FIELD)
    if not turnstile.well_formed(token):
        return Invalid({TURNSTILE_FIELD: "required"})
    verdict = turnstile.verify(secret, token, settings.turnstile_verify_url)
    if verdict is False:
        # Cloudflare takes a token once: a retry of a message already stored
        # fails the check, and must get the first message's id, not an error.
        # Only a retry with the Idempotency-Key, the client's own secret: anyone
        # else guessing an email and message would learn that, and when, a person wrote.
        stored_id = store.claimed(claim, now) if claim.by_key else None
        if stored_id is not None:
            log.info("contact duplicate", extra={"message_id": stored_id})
            return Received(stored_id)
        return Invalid({TURNSTILE_FIELD: "failed"})
    # Cloudflare unreachable: take the message, marked, rather than lose a person.
    return "passed" if verdict else "unverified"


def new_message(
    submission: Submission, fields: dict[str, Any], settings: Settings, keys: Secrets, turnstile: str | None, now: float
) -> Message:
    """The message a valid submission makes: held as suspected spam for a filled honeypot or its content."""
    verdict = spam.score(fields["name"], fields["message"])
    reasons = ("honeypot",) * fields["honeypot_filled"] + verdict.reasons
    return Message(
        id=new_id(now),
        received_at=iso_time(now),
        notify_status=NotifyStatus.SPAM if fields["honeypot_filled"] or verdict.held else NotifyStatus.PENDING,
        name=fields["name"],
        email=fields["email"],
        phone=fields["phone"],
        preferred_contact=fields["preferred_contact"],
        **fields["answers"],
        message=fields["message"],
        consent_version=settings.consent_version,
        # Labelled "address" as before: an IPv4 address is its own network, and hashes as it did.
        ip_hash=keyed_hash(keys.ip_hash_secret, "address", ratelimit.network(submission.client_address)),
        user_agent=submission.user_agent,
        source_page=submission.source_page,
        turnstile=turnstile,
        spam_score=verdict.score or None,
        spam_reasons=",".join(reasons) or None,
    )


def record(
    store: MessageStore, message: Message, claim: Claim, limits: Limits, keys: Secrets, now: float
) -> tuple[Message, Recorded | Duplicate | RateLimited]:
    """Store the message, counting its text among the repeats (handler/repeats.py); a text that
    too many client networks sent is stored held, as the message it then is."""
    text = None if message.spam else repeats.text_hash(keys.ip_hash_secret, message.message)
    count = None if text is None else repeats.counted(text, message.ip_hash, now)
    outcome = store.record(message, claim, limits, now, count)
    if isinstance(outcome, Duplicate) and store.holds(outcome.message_id) is False:
        # The message that claimed it was deleted since (in the inbox, say): a duplicate of
        # nothing, which must not be dropped.
        store.release_claim(claim, outcome.message_id)
        outcome = store.record(message, claim, limits, now, count)
    if isinstance(outcome, Repeated):
        reasons = ",".join(filter(None, (message.spam_reasons, repeats.REASON)))
        message = dataclasses.replace(message, notify_status=NotifyStatus.SPAM, spam_reasons=reasons)
        outcome = store.record(message, claim, limits, now)
    assert not isinstance(outcome, Repeated)  # only a repeat count can refuse as one
    return message, outcome


def not_recorded(outcome: Duplicate | RateLimited, unstored_id: str) -> Outcome:
    """The transaction stored nothing: rate limited, or a duplicate."""
    if isinstance(outcome, RateLimited):
        log.info("contact rate limited", extra={"retry_after": outcome.retry_after})
        return outcome
    if not outcome.same_content:
        log.info("idempotency key reused for another message", extra={"message_id": outcome.message_id})
        return KeyReused()
    if not outcome.same_client:
        # The same email and message from another network: answered as a new message,
        # with the id made for it (never stored), which tells nothing of the first.
        log.info("contact duplicate from another network", extra={"message_id": outcome.message_id})
        return Received(unstored_id)
    log.info("contact duplicate", extra={"message_id": outcome.message_id})
    return Received(outcome.message_id)


def unstored(
    message: Message, settings: Settings, ses: Any, store: MessageStore, saved: bool | None, started: float
) -> Outcome:
    """DynamoDB did not store the message (``saved`` False) or cannot say (None): the email
    carries all of it, suspected spam too (marked so), so that no person is lost."""
    try:
        email = notification.notification(message, settings.alert, saved=saved)
        notification.send(ses, email, settings.alert.notify_email, settings.alert)
    except notification.NotificationFailed as error:
        # The alarm in template.yaml matches this text in the logs.
        log.critical(CONTACT_NOT_RECEIVED, extra={"message_id": message.id, "error_code": error.code})
        return NotReceived()
    log.error("contact not stored; sent by email only", extra={"message_id": message.id, "saved": saved})
    if saved is None and not message.spam:
        # Stored after all, it would be alerted again by the retry function once
        # its lease ends: one try to record this alert (refused if not stored).
        with contextlib.suppress(StorageUnavailable):
            store.mark_sent(message.id, 1)
    if settings.send_acknowledgement and not message.spam:
        delivery.acknowledge(message, ses, settings.alert)
    log.info("contact received", extra={"message_id": message.id, "duration_ms": milliseconds_since(started)})
    return Received(message.id, stored=False)


def milliseconds_since(started: float) -> int:
    return round(1000 * (time.perf_counter() - started))
