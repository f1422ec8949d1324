"""A contact message: what a visitor sent, what the function adds, and how its alert stands.

One type for the function, the retry function and ``contact-admin``, with its
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
from typing import Any, get_type_hints

Item = dict[str, dict[str, Any]]  # a DynamoDB item, as the low-level client reads and writes it


class NotifyStatus(StrEnum):
    """Where the therapist's alert stands."""

    PENDING = "pending"  # not sent yet (the request that stored it is sending it)
    RETRYING = "retrying"  # an attempt failed: the retry function will try again
    SENT = "sent"
    FAILED = "failed"  # every attempt failed: given up, and an error logged
    SPAM = "spam"  # a filled honeypot: stored, never alerted


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
    SPAM = "spam"
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
    message: str
    consent_version: str
    source_page: str | None = None
    user_agent: str | None = None
    turnstile: str | None = None  # "passed" or "unverified" when the check is on
    ip_hash: str  # a keyed hash of the client address, never the address
    notified_at: str | None = None
    last_error: str | None = None  # the error code of the last failed attempt
    state: InboxState = InboxState.NEW
    state_by: str | None = None  # the signed-in address that last changed it
    state_at: str | None = None  # when (UTC, ISO 8601)

    @property
    def spam(self) -> bool:
        return self.notify_status == NotifyStatus.SPAM

    @property
    def alert_undelivered(self) -> bool:
        """The therapist was never alerted (to take SES's delivery events when they are stored)."""
        return self.notify_status == NotifyStatus.FAILED

    @property
    def shown(self) -> Shown:
        if self.spam:
            return Shown.SPAM
        if self.state == InboxState.NEW and self.alert_undelivered:
            return Shown.UNDELIVERED
        return Shown(self.state.value)

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
    name: kind for name, kind in get_type_hints(Message).items() if isinstance(kind, type) and issubclass(kind, StrEnum)
}

# ``Message.shown`` as filter expressions on the stored attributes (``#state``: STATE is a reserved word).
_NEW = "(attribute_not_exists(#state) OR #state = :new)"
_NOT_SPAM = "notify_status <> :spam"
SHOWN_FILTERS = {
    Shown.NEW: f"{_NEW} AND {_NOT_SPAM} AND notify_status <> :failed",
    Shown.REPLIED: f"#state = :replied AND {_NOT_SPAM}",
    Shown.CLOSED: f"#state = :closed AND {_NOT_SPAM}",
    Shown.SPAM: "notify_status = :spam",
    Shown.UNDELIVERED: f"{_NEW} AND notify_status = :failed",
}
SHOWN_FILTER_VALUES = {
    ":new": InboxState.NEW,
    ":replied": InboxState.REPLIED,
    ":closed": InboxState.CLOSED,
    ":spam": NotifyStatus.SPAM,
    ":failed": NotifyStatus.FAILED,
}


def shown_filter(shown: Shown) -> dict[str, Any]:
    """The query arguments that keep only the messages shown as ``shown``."""
    expression = SHOWN_FILTERS[shown]
    values = {name: {"S": str(value)} for name, value in SHOWN_FILTER_VALUES.items() if name in expression}
    names = {"#state": "state"} if "#state" in expression else {}
    return {"FilterExpression": expression, "ExpressionAttributeValues": values} | (
        {"ExpressionAttributeNames": names} if names else {}
    )


def to_attribute(value: str | int) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": str(value)}


def from_attribute(attribute: dict[str, Any]) -> Any:
    (kind, value), *_ = attribute.items()
    return int(value) if kind == "N" else value
