"""``POST /contact``: a visitor's message, stored first, then the therapist alerted.

Order of events for a valid message: one DynamoDB transaction stores it with
its duplicate claim and rate-limit count, SES alerts the therapist, and one
update records that. If SES fails the visitor still gets 201 and the retry
function takes over; if DynamoDB fails the whole message goes by email and the
visitor gets 202; only if both fail does the visitor get 503, asking them to
try again. A filled honeypot is stored as spam (so that a person whose browser
filled it by mistake is not lost) and answered like a success, unnotified.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request

from handler import aws, delivery, notification
from handler.config import settings as current_settings
from handler.message import Message, NotifyStatus
from handler.storage import (
    Claim,
    Duplicate,
    Limits,
    MessageStore,
    RateLimited,
    Recorded,
    StorageUnavailable,
    iso_time,
    keyed_hash,
    new_id,
)
from handler.validation import TURNSTILE_FIELD, TURNSTILE_TOKEN_MAX, validate

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
MAX_FORM_FIELDS = 50
USER_AGENT_MAX = 256
SOURCE_PAGE_MAX = 512
IDEMPOTENCY_KEY_MAX = 200
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
TURNSTILE_TIMEOUT_SECONDS = 3
TURNSTILE_ANSWER_MAX = 4096  # Cloudflare's answer is a few hundred bytes
# Logged when DynamoDB and SES both failed: nothing kept, the visitor asked to try again.
CONTACT_NOT_RECEIVED = "CONTACT_NOT_RECEIVED"

bp = Blueprint("contact", __name__)


class BadRequest(Exception):
    """A body that cannot be read at all (400)."""


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields = dict(pairs)
    if len(fields) != len(pairs):
        names = [name for name, _ in pairs]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        raise BadRequest(f"The field '{duplicated[0][:64]}' is given more than once.")
    return fields


def parse_body(body: bytes, mimetype: str) -> dict[str, Any]:
    if mimetype == JSON_TYPE:
        try:
            data = json.loads(body.decode("utf-8"), object_pairs_hook=reject_duplicate_keys)
        except UnicodeDecodeError:
            raise BadRequest("The body is not UTF-8 text.") from None
        except json.JSONDecodeError as error:
            raise BadRequest(f"The body is not valid JSON ({error.msg}, at character {error.pos}).") from None
        except (ValueError, RecursionError):
            # Nesting too deep for the parser, or an integer too long to convert.
            raise BadRequest("The body is not a JSON object of fields.") from None
        if not isinstance(data, dict):
            raise BadRequest("The body must be a JSON object of fields.")
        return data
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS
        )
    except UnicodeError:
        raise BadRequest("The form is not URL-encoded UTF-8 text.") from None
    except ValueError:
        raise BadRequest(f"The form has more than {MAX_FORM_FIELDS} fields.") from None
    return reject_duplicate_keys(pairs)


def wants_html() -> bool:
    """A browser's plain form post (no JavaScript) wants pages, not JSON."""
    return (
        request.mimetype == FORM_TYPE and request.accept_mimetypes.best_match([JSON_TYPE, "text/html"]) == "text/html"
    )


def page(status: int, title: str, paragraphs: list[str]) -> Response:
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    response = Response(document, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def failure(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    if wants_html():
        details = [f"{name.replace('_', ' ')}: {problem.replace('_', ' ')}" for name, problem in (fields or {}).items()]
        return page(status, "Your message was not sent", [message, *details, "Please go back and try again."])
    body: dict[str, Any] = {"error": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def invalid(fields: dict[str, str]) -> Response:
    """422, naming every bad field at once."""
    return failure(422, "validation_failed", f"Please check these fields: {', '.join(sorted(fields))}.", fields)


def received(message_id: str, status: int = 201) -> Response:
    settings = current_settings()
    if request.mimetype == FORM_TYPE and settings.thank_you_url:
        return redirect(settings.thank_you_url, code=303)
    notice = settings.alert.crisis_notice
    if wants_html():
        return page(status, "Thank you", ["Your message has been received.", notice])
    # Written out rather than jsonify'd: this answer is on every message's path.
    body = json.dumps({"id": message_id, "notice": notice, "status": "received"})
    response = Response(body, status, content_type=JSON_TYPE)
    response.headers.add("Cache-Control", "no-store")
    return response


def turnstile_passes(token: Any) -> bool | None:
    """True or False as Cloudflare answers; None when it could not be asked, did not answer
    within TURNSTILE_TIMEOUT_SECONDS in all, or answered something that makes no sense."""
    settings = current_settings()
    data = urllib.parse.urlencode({"secret": settings.turnstile_secret, "response": token}).encode("ascii")
    request = urllib.request.Request(settings.turnstile_verify_url, data=data, method="POST")
    answers: list[Any] = []

    def ask() -> None:
        try:
            with urllib.request.urlopen(request, timeout=TURNSTILE_TIMEOUT_SECONDS) as answer:
                answers.append(json.loads(answer.read(TURNSTILE_ANSWER_MAX)))
        except Exception:  # noqa: BLE001 - unreachable, refused, cut short, garbled: no verdict
            return

    # urlopen's timeout bounds each read, not the whole answer (one dripped a
    # byte at a time never times out): the thread's join bounds the whole.
    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(TURNSTILE_TIMEOUT_SECONDS)
    verdict = answers[0] if answers else None
    success = verdict.get("success") if isinstance(verdict, dict) else None
    return success if isinstance(success, bool) else None


@bp.get("/contact")
def form_settings() -> Response:
    """What the website shows beside the form: the consent text (and its version) and the crisis notice."""
    settings = current_settings()
    return jsonify(
        consent_text=settings.consent_text,
        consent_version=settings.consent_version,
        notice=settings.alert.crisis_notice,
        turnstile=bool(settings.turnstile_secret),
    )


@bp.post("/contact")
def submit() -> Response:
    started = time.perf_counter()
    # Each use of Flask's proxies looks the request up again: look once.
    req = request._get_current_object()  # type: ignore[attr-defined]
    settings = current_settings()
    environ = req.environ
    if (req.content_length or 0) > MAX_BODY_BYTES:
        return failure(413, "payload_too_large", f"The message is too large: at most {MAX_BODY_BYTES // 1024} KB.")
    mimetype = req.mimetype
    if mimetype not in (JSON_TYPE, FORM_TYPE):
        return failure(415, "unsupported_media_type", f"Send the form as {JSON_TYPE} or {FORM_TYPE}.")
    idempotency_key = environ.get("HTTP_IDEMPOTENCY_KEY")
    if idempotency_key is not None and not (
        idempotency_key.strip()
        and len(idempotency_key) <= IDEMPOTENCY_KEY_MAX
        and idempotency_key.isascii()
        and idempotency_key.isprintable()
    ):
        return failure(
            400, "bad_request", f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters."
        )
    try:
        data = parse_body(req.get_data(cache=False), mimetype)
    except BadRequest as error:
        return failure(400, "bad_request", str(error))

    turnstile_secret = settings.turnstile_secret
    fields, errors = validate(data, frozenset({TURNSTILE_FIELD}) if turnstile_secret else frozenset())
    if errors:
        return invalid(errors)

    now = time.time()
    secret = settings.ip_hash_secret
    claim = Claim.of(secret, fields["email"], fields["message"], idempotency_key)
    clients = aws.clients()
    store = MessageStore(clients.dynamodb, settings.contact_table_name)

    turnstile = None
    if turnstile_secret:
        token = data.get(TURNSTILE_FIELD)
        if not (isinstance(token, str) and 0 < len(token) <= TURNSTILE_TOKEN_MAX and token.isascii()):
            return invalid({TURNSTILE_FIELD: "required"})
        verdict = turnstile_passes(token)
        if verdict is False:
            # Cloudflare takes a token once: a retry of a message already stored
            # fails the check, and must get the first message's id, not an error.
            stored_id = store.claimed(claim, now)
            if stored_id is not None:
                return not_recorded(Duplicate(stored_id))
            return invalid({TURNSTILE_FIELD: "failed"})
        # Cloudflare unreachable: take the message, marked, rather than lose a person.
        turnstile = "passed" if verdict else "unverified"

    ip_hash = keyed_hash(secret, "address", req.remote_addr or "")
    spam = fields["honeypot_filled"]
    message = Message(
        id=new_id(now),
        received_at=iso_time(now),
        notify_status=NotifyStatus.SPAM if spam else NotifyStatus.PENDING,
        name=fields["name"],
        email=fields["email"],
        phone=fields["phone"],
        preferred_contact=fields["preferred_contact"],
        message=fields["message"],
        consent_version=settings.consent_version,
        ip_hash=ip_hash,
        user_agent=environ.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX] or None,
        source_page=(environ.get("HTTP_ORIGIN") or environ.get("HTTP_REFERER") or "")[:SOURCE_PAGE_MAX] or None,
        turnstile=turnstile,
    )
    limits = Limits(settings.retention_days, settings.rate_limit_count, settings.rate_limit_window_seconds)
    try:
        outcome = store.record(message, claim, limits, now)
    except StorageUnavailable:
        return unstored(message, spam, started)

    if not isinstance(outcome, Recorded):
        return not_recorded(outcome)
    if spam:
        log.info("contact stored as spam", extra={"message_id": message.id})
        return received(message.id)

    sent = delivery.deliver(message, store, clients.ses, settings.alert)
    if settings.send_acknowledgement:
        delivery.acknowledge(message, clients.ses, settings.alert)
    log.info(
        "contact received",
        extra={
            "message_id": message.id,
            "notified": sent,
            "duration_ms": round(1000 * (time.perf_counter() - started)),
        },
    )
    return received(message.id)


def not_recorded(outcome: Duplicate | RateLimited) -> Response:
    """The answer when the transaction stored nothing: rate limited, or a duplicate."""
    if isinstance(outcome, RateLimited):
        log.info("contact rate limited", extra={"retry_after": outcome.retry_after})
        response = failure(429, "rate_limited", "Too many messages from this address. Please try again later.")
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if not outcome.same_content:
        log.info("idempotency key reused for another message", extra={"message_id": outcome.message_id})
        return failure(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different message: send it with a new key.",
        )
    log.info("contact duplicate", extra={"message_id": outcome.message_id})
    return received(outcome.message_id)


def unstored(message: Message, spam: bool, started: float) -> Response:
    """DynamoDB failed: the email carries the whole message, the only copy of it."""
    if spam:
        log.warning("spam not stored: storage unavailable", extra={"message_id": message.id})
        return received(message.id)
    settings = current_settings()
    try:
        email = notification.notification(message, settings.alert, only_copy=True)
        notification.send(aws.clients().ses, email, settings.alert.notify_email, settings.alert)
    except notification.NotificationFailed as error:
        # The alarm in template.yaml matches this text in the logs.
        log.critical(
            CONTACT_NOT_RECEIVED,
            extra={"message_id": message.id, "error_code": error.code},
        )
        response = failure(
            503,
            "unavailable",
            "We could not receive your message just now. Nothing was saved: please try again in a few minutes.",
        )
        response.headers["Retry-After"] = "120"
        return response
    log.error("contact not stored; sent by email only", extra={"message_id": message.id})
    if settings.send_acknowledgement:
        delivery.acknowledge(message, aws.clients().ses, settings.alert)
    log.info(
        "contact received",
        extra={"message_id": message.id, "duration_ms": round(1000 * (time.perf_counter() - started))},
    )
    return received(message.id, status=202)
