"""A contact message: what a visitor sent, what the function adds, and how its alert stands.

One type for the functions and ``contact-admin``, with its
conversion to and from a DynamoDB item (low-level attribute values). Each
field is stored as the attribute of the same name; a field that is None is
not stored. State (such as ``notify_status``) is a field like any other, so a
new kind of state is one more field with a default. Where an item lives (its
keys, indexes and expiry) is ``storage``'s business, not the message's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, get_args, get_type_hints

Item = dict[str, dict[str, Any]]  # a DynamoDB item, as the low-level client reads and writes it


class NotifyStatus(StrEnum):
    """Where the therapist's alert stands."""

    PENDING = "pending"  # not sent yet (the request that stored it is sending it)
    RETRYING = "retrying"  # an attempt failed: the retry function will try again
    SENT = "sent"
    FAILED = "failed"  # every attempt failed: given up, and an error logged
    SPAM = "spam"  # a filled honeypot: stored, never alerted


class AlertDelivery(StrEnum):
    """What SES reported of an alert it accepted (``handler/delivery_events.py``)."""

    DELAYED = "delayed"  # SES is still trying
    DELIVERED = "delivered"  # the therapist's mail server took it
    BOUNCED = "bounced"  # see the bounce type: Transient means SES gave up retrying
    COMPLAINED = "complained"  # delivered, then reported as spam
    REJECTED = "rejected"  # SES refused to send it (a virus found)
    RENDERING_FAILED = "rendering_failed"  # SES could not build it

    @property
    def not_delivered(self) -> bool:
        """The alert did not reach the therapist, or (reported as spam) may never be seen."""
        return self not in (AlertDelivery.DELAYED, AlertDelivery.DELIVERED)

    @property
    def rank(self) -> int:
        """How final a report is: a report never replaces one of higher rank for the same alert.
        A delivered alert can still bounce (out of band) or be reported as spam."""
        if self.not_delivered:
            return 2
        return 1 if self is AlertDelivery.DELIVERED else 0


@dataclass(frozen=True)
class DeliveryReport:
    """One SES report of one alert: which message, which attempt at alerting, and what became of it."""

    message_id: str
    attempt: int  # the notify_attempts number the alert was sent as
    state: AlertDelivery
    at: str  # when it happened, as received_at is written
    bounce_type: str | None = None  # Permanent, Transient or Undetermined
    bounce_subtype: str | None = None  # e.g. General, MailboxFull, OnAccountSuppressionList
    recipients: tuple[str, ...] = ()  # the therapist's addresses it names

    @property
    def raises_alarm(self) -> bool:
        """The therapist will not see the alert, and waiting will not change that: someone must act.
        A transient bounce, SES's last word after retrying, does not (the issue's rule)."""
        if self.state is AlertDelivery.BOUNCED:
            return self.bounce_type != "Transient"
        return self.state.not_delivered


class InboxState(StrEnum):
    """Where the therapist has got with a message (set from the inbox)."""

    NEW = "new"
    REPLIED = "replied"
    CLOSED = "closed"


class Shown(StrEnum):
    """What the inbox and contact-admin show for a message: its state, unless it is spam or its
    alert was never delivered (and it is still new). ``shown`` and ``SHOWN_FILTERS`` are the one
    place that says so, in Python and as DynamoDB filter expressions."""

    NEW = "new"
    REPLIED = "replied"
    CLOSED = "closed"
    SPAM = "held as spam"  # suspected spam: stored, not alerted, until "Not spam"
    UNDELIVERED = "alert not delivered"


@dataclass(frozen=True, kw_only=True)
class Message:
    """A message as stored, fields in the order contact-admin shows them."""

    id: str  # a ULID: sorts by time
    received_at: str  # UTC, ISO 8601, to the millisecond
    notify_status: NotifyStatus = NotifyStatus.PENDING
    notify_attempts: int = 0
    name: str
    email: str
    phone: str | None = None
    preferred_contact: str  # "email" or "phone"
    # The intake questions' answers (handler/intake.py), as their choices' values; None: not asked or not answered.
    client_type: str | None = None
    session_format: str | None = None
    state: str | None = None
    payment: str | None = None
    availability: str | None = None  # the values chosen, comma-separated
    voicemail_ok: str | None = None
    message: str
    consent_version: str
    source_page: str | None = None
    user_agent: str | None = None
    turnstile: str | None = None  # "passed" or "unverified" when the check is on
    # Why it was held as suspected spam, or what came near: handler.spam's reason codes,
    # comma-separated ("honeypot" for a filled honeypot), and its score. Never the text.
    spam_score: int | None = None
    spam_reasons: str | None = None
    ip_hash: str  # a keyed hash of the client's network (handler.ratelimit), never the address
    notified_at: str | None = None
    last_error: str | None = None  # the error code of the last failed attempt
    # What SES last reported of the alert sent as attempt alert_attempt (delivery_events).
    alert_delivery: AlertDelivery | None = None
    alert_attempt: int | None = None
    alert_delivery_at: str | None = None
    alert_bounce_type: str | None = None
    alert_bounce_subtype: str | None = None
    alert_recipients: str | None = None  # comma-separated: the therapist's own addresses, never logged
    inbox_state: InboxState = InboxState.NEW  # not "state": an intake question's answer is called so
    state_by: str | None = None  # the signed-in address that last changed it
    state_at: str | None = None  # when (UTC, ISO 8601)

    @property
    def spam(self) -> bool:
        return self.notify_status == NotifyStatus.SPAM

    @property
    def alert_fate(self) -> AlertDelivery | None:
        """What SES reported of the latest alert sent; None until it reports (or when no
        configuration set asks it to). A report on an earlier attempt no longer counts."""
        if self.alert_delivery is None or self.alert_attempt is None or self.alert_attempt < self.notify_attempts:
            return None
        return self.alert_delivery

    @property
    def alert_not_delivered(self) -> bool:
        """The latest alert did not reach the therapist: resend it once the mailbox is fixed."""
        fate = self.alert_fate
        return fate is not None and fate.not_delivered

    @property
    def alert_undelivered(self) -> bool:
        """The therapist was never alerted: every attempt failed, or SES reported that the latest
        alert did not reach them."""
        return self.notify_status == NotifyStatus.FAILED or self.alert_not_delivered

    @property
    def shown(self) -> Shown:
        if self.spam:
            return Shown.SPAM
        if self.inbox_state == InboxState.NEW and self.alert_undelivered:
            return Shown.UNDELIVERED
        return Shown(self.inbox_state.value)

    def to_item(self) -> Item:
        return {name: to_attribute(value) for name, value in dataclasses.asdict(self).items() if value is not None}

    @classmethod
    def from_item(cls, item: Item) -> Message:
        """The message an item holds; attributes that are not fields (keys, expiry) are left out."""
        values = {name: from_attribute(item[name]) for name in FIELD_NAMES if name in item}
        for name, kind in STATE_FIELDS.items():
            if name in values:
                values[name] = kind(values[name])
        return cls(**values)


FIELD_NAMES = tuple(field.name for field in dataclasses.fields(Message))
# Fields whose values are one of a set (stored as text, read back as their StrEnum).
STATE_FIELDS = {
    name: kind
    for name, hint in get_type_hints(Message).items()
    for kind in (hint, *get_args(hint))  # an optional state (``AlertDelivery | None``) too
    if isinstance(kind, type) and issubclass(kind, StrEnum)
}

# ``Message.shown`` as filter expressions on the stored attributes (``#state`` is inbox_state).
_NEW = "(attribute_not_exists(#state) OR #state = :new)"
_NOT_SPAM = "notify_status <> :spam"
# ``Message.alert_undelivered``: every attempt failed, or SES reported that the latest alert
# (alert_attempt not older than notify_attempts) did not reach the therapist.
_NOT_DELIVERED = [state for state in AlertDelivery if state.not_delivered]
_UNDELIVERED = (
    "(notify_status = :failed OR (alert_delivery IN ("
    + ", ".join(f":{state.value}" for state in _NOT_DELIVERED)
    + ") AND alert_attempt >= notify_attempts))"
)
SHOWN_FILTERS = {
    Shown.NEW: f"{_NEW} AND {_NOT_SPAM} AND NOT {_UNDELIVERED}",
    Shown.REPLIED: f"#state = :replied AND {_NOT_SPAM}",
    Shown.CLOSED: f"#state = :closed AND {_NOT_SPAM}",
    Shown.SPAM: "notify_status = :spam",
    Shown.UNDELIVERED: f"{_NEW} AND {_NOT_SPAM} AND {_UNDELIVERED}",
}
SHOWN_FILTER_VALUES = {
    ":new": InboxState.NEW,
    ":replied": InboxState.REPLIED,
    ":closed": InboxState.CLOSED,
    ":spam": NotifyStatus.SPAM,
    ":failed": NotifyStatus.FAILED,
    **{f":{state.value}": state for state in _NOT_DELIVERED},
}


def shown_filter(shown: Shown) -> dict[str, Any]:
    """The query arguments that keep only the messages shown as ``shown``."""
    expression = SHOWN_FILTERS[shown]
    values = {name: {"S": str(value)} for name, value in SHOWN_FILTER_VALUES.items() if name in expression}
    names = {"#state": "inbox_state"} if "#state" in expression else {}
    return {"FilterExpression": expression, "ExpressionAttributeValues": values} | (
        {"ExpressionAttributeNames": names} if names else {}
    )


def to_attribute(value: str | int) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": str(value)}


def from_attribute(attribute: dict[str, Any]) -> Any:
    (kind, value), *_ = attribute.items()
    return int(value) if kind == "N" else value
