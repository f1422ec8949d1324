"""Contact messages in DynamoDB: one table, its keys designed for the access patterns.

| item | pk | sk | found by |
| --- | --- | --- | --- |
| message | ``MSG#<id>`` | ``MSG`` | id; index ``recent`` (``recent_pk`` = ``MSG``, ``recent_sk`` = received time and id) for the newest first; index ``pending`` (sparse: only while a notification is due) for retries |
| claim | ``CLAIM#<keyed hash>`` | ``CLAIM`` | the Idempotency-Key, or the email and message, within their window (with the first sender's network) |
| rate limit | ``RATE#<keyed hash of network>`` | ``RATE`` | the client's network (``handler.ratelimit``): the times of its last messages |

A new message is written in one transaction with its claim and its rate
limit's item: the claim makes a retried or raced submission give the first one's
id, the rate limit caps messages per client network, and all three hold or none does.
Every item that can expire carries ``expires_at`` for DynamoDB's TTL, which
deletes lazily, so conditions compare it with the clock too.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from handler import ratelimit
from handler.message import (
    AlertDelivery,
    DeliveryReport,
    InboxState,
    Item,
    Message,
    NotifyStatus,
    Shown,
    shown_filter,
)

MESSAGE_SK = "MSG"
RECENT_INDEX = "recent"
PENDING_INDEX = "pending"
PENDING_PARTITION = "PENDING"
RECENT_PARTITION = "MSG"
IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
DUPLICATE_WINDOW_SECONDS = 600
# A message being notified is leased for longer than a function can run
# (timeout 25 s), so that the retry function never sends it alongside.
NOTIFY_LEASE_SECONDS = 120
TRANSACTION_TRIES = 3
RECENT_PAGE = 100  # items a query of the recent index reads at a time (a filter may keep fewer)
# Which state each inbox action may change, to what.
TRANSITIONS = {
    "replied": ({InboxState.NEW, InboxState.CLOSED}, InboxState.REPLIED),
    "closed": ({InboxState.NEW, InboxState.REPLIED}, InboxState.CLOSED),
    "reopened": ({InboxState.REPLIED, InboxState.CLOSED}, InboxState.NEW),
}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CROCKFORD_PAIRS = [first + second for first in CROCKFORD for second in CROCKFORD]


class ConditionFailed(Exception):
    """A conditional call's condition was false; ``old`` is the item as it was, when the call
    asked for it (``ReturnValuesOnConditionCheckFailure``), else None."""

    def __init__(self, old: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.old = old


class StorageUnavailable(Exception):
    """DynamoDB could not be reached or refused the call; the cause is chained."""


@dataclass(frozen=True)
class Recorded:
    message_id: str


@dataclass(frozen=True)
class Duplicate:
    message_id: str
    same_content: bool = True  # False: an Idempotency-Key reused for another message
    # The same Idempotency-Key (the client's own secret), or the same client network: else
    # another client sent the same email and message, and must not learn the first one's id.
    same_client: bool = True


@dataclass(frozen=True)
class RateLimited:
    retry_after: int


@dataclass(frozen=True)
class Repeated:
    """Too many client networks sent the same text: not stored, to be stored again held."""


@dataclass(frozen=True)
class Claim:
    """What makes a retried or raced submission the same message: its Idempotency-Key
    (a day), or else its email and text (ten minutes), as keyed hashes."""

    key: str
    content_hash: str  # tells a key reused for another message from a retry
    window_seconds: int

    @classmethod
    def of(cls, secret: bytes, email: str, text: str, idempotency_key: str | None) -> Claim:
        content_hash = keyed_hash(secret, "duplicate", email.lower(), text)
        if idempotency_key is not None:
            return cls(keyed_hash(secret, "idempotency", idempotency_key), content_hash, IDEMPOTENCY_WINDOW_SECONDS)
        return cls(content_hash, content_hash, DUPLICATE_WINDOW_SECONDS)

    @property
    def by_key(self) -> bool:
        return self.key != self.content_hash


@dataclass(frozen=True)
class Limits:
    """How long a new message is kept, and how many one client network may store in any window."""

    retention_days: int  # 0: kept until deleted
    rate_limit_count: int  # 0: no limit
    rate_limit_window_seconds: int


@dataclass(frozen=True)
class Due:
    """A message whose alert is due, as the pending index lists it."""

    message_id: str
    pending_sk: str  # its due time when seen: leasing it checks that no one has moved it since


class ReportOutcome(StrEnum):
    RECORDED = "recorded"
    UNCHANGED = "unchanged"  # a repeat, or older or less final than what is recorded, or of an earlier attempt
    UNKNOWN = "unknown"  # no such message (deleted, or not this table's)


def new_id(now: float | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, in Crockford base 32, so ids sort by time."""
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    # 130 bits (the top two zero) as 13 pairs of characters, 10 bits each.
    return "".join([CROCKFORD_PAIRS[(value >> shift) & 1023] for shift in range(120, -1, -10)])


# The one item that says when the held-message digest was last sent, and what it counted.
DIGEST_KEY = {"pk": {"S": "DIGEST#held"}, "sk": {"S": "DIGEST"}}


def iso_time(moment: float) -> str:
    """UTC, ISO 8601, to the millisecond: sorts as text."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{int(moment * 1000) % 1000:03d}Z"


def keyed_hash(secret: bytes, *parts: str) -> str:
    """HMAC-SHA256 of the parts: a stable key that reveals nothing without the secret."""
    return hmac.digest(secret, "\x1f".join(parts).encode("utf-8"), "sha256").hex()


def message_key(message_id: str) -> Item:
    return {"pk": {"S": f"MSG#{message_id}"}, "sk": {"S": MESSAGE_SK}}


def claim_item_key(claim: Claim) -> Item:
    """The key of the item that claims ``claim`` for one message."""
    return {"pk": {"S": f"CLAIM#{claim.key}"}, "sk": {"S": "CLAIM"}}


@dataclass(frozen=True)
class Changed:
    message: Message  # as it now is


@dataclass(frozen=True)
class Unchanged:
    """The message was not in a state the action applies to (another tab got there first)."""

    message: Message


def recent_sort_key(received_at: str, message_id: str) -> str:
    return f"{received_at}#{message_id}"


def recent_key(after: str) -> Item:
    """The index key of the message whose ``recent_sk`` is ``after``: where a query resumes."""
    message_id = after.rsplit("#", 1)[1]
    return message_key(message_id) | {"recent_pk": {"S": RECENT_PARTITION}, "recent_sk": {"S": after}}


def pending_sort_key(due_at: float, message_id: str) -> str:
    return f"{iso_time(due_at)}#{message_id}"


def delivery_update(report: DeliveryReport) -> tuple[str, str, dict[str, Any]]:
    """The update that records ``report``, its condition, and their values.

    The latest attempt's reports win over an earlier attempt's (a resend starts afresh, and
    a report of an attempt older than the message's last is stale); within one attempt, a
    more final report wins (``AlertDelivery.rank``), and between equally final ones the later.
    """
    values: dict[str, Any] = {
        ":state": {"S": report.state.value},
        ":attempt": {"N": str(report.attempt)},
        ":at": {"S": report.at},
    }
    ranks: dict[str, list[str]] = {"same": [], "lower": []}
    for number, state in enumerate(AlertDelivery):
        if state.rank <= report.state.rank:
            group = "same" if state.rank == report.state.rank else "lower"
            ranks[group].append(f":{group}{number}")
            values[f":{group}{number}"] = {"S": state.value}
    supersedes = f"alert_delivery IN ({', '.join(ranks['same'])}) AND alert_delivery_at < :at"
    if ranks["lower"]:
        supersedes = f"alert_delivery IN ({', '.join(ranks['lower'])}) OR ({supersedes})"
    condition = (
        "attribute_exists(pk) AND notify_attempts <= :attempt AND (attribute_not_exists(alert_attempt) "
        f"OR alert_attempt < :attempt OR (alert_attempt = :attempt AND ({supersedes})))"
    )
    details = {
        "alert_bounce_type": report.bounce_type,
        "alert_bounce_subtype": report.bounce_subtype,
        "alert_recipients": ", ".join(report.recipients) or None,
    }
    assignments = ["alert_delivery = :state", "alert_attempt = :attempt", "alert_delivery_at = :at"]
    for name, value in details.items():
        if value is not None:
            assignments.append(f"{name} = :{name}")
            values[f":{name}"] = {"S": value}
    expression = "SET " + ", ".join(assignments)
    cleared = [name for name, value in details.items() if value is None]  # what an earlier report said
    if cleared:
        expression += " REMOVE " + ", ".join(cleared)
    return expression, condition, values


class MessageStore:
    """The contact table, through a low-level DynamoDB client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def message_item(self, message: Message, now: float, retention_days: int) -> Item:
        message_id = message.id
        item = message.to_item() | message_key(message_id)
        item["recent_pk"] = {"S": RECENT_PARTITION}
        item["recent_sk"] = {"S": recent_sort_key(message.received_at, message_id)}
        if retention_days:
            item["expires_at"] = {"N": str(int(now) + retention_days * 86400)}
        if not message.spam:
            # In the pending index until notified: if this function dies before
            # it sends, the retry function finds the message once the lease ends.
            item["pending_pk"] = {"S": PENDING_PARTITION}
            item["pending_sk"] = {"S": pending_sort_key(now + NOTIFY_LEASE_SECONDS, message_id)}
        return item

    def record(
        self,
        message: Message,
        claim: Claim,
        limits: Limits,
        now: float | None = None,
        repeat: dict[str, Any] | None = None,
    ) -> Recorded | Duplicate | RateLimited | Repeated:
        """Store a new message with its claim and its client network's rate count, in one
        transaction; with ``repeat`` (the update of ``repeats.counted``), counting its network
        among those that sent its text, unless too many did (Repeated: store it held instead)."""
        from botocore.exceptions import BotoCoreError, ClientError

        now = time.time() if now is None else now
        items = self.transaction(message, claim, limits, now, repeat)
        # The token makes botocore's own retry of a committed transaction (its answer lost to a
        # timeout) succeed again instead of failing; the same message without its repeat count
        # is another transaction, and DynamoDB refuses one token for two.
        token = message.id + ("-repeat" if repeat else "")
        for attempt in range(TRANSACTION_TRIES):
            try:
                self.client.transact_write_items(TransactItems=list(items.values()), ClientRequestToken=token)
                return Recorded(message.id)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise StorageUnavailable("transact_write_items failed") from error
                cancelled = dict(zip(items, error.response.get("CancellationReasons", []), strict=False))
                refused = {kind for kind, reason in cancelled.items() if reason.get("Code") == "ConditionalCheckFailed"}
                if "claim" in refused:
                    old = cancelled["claim"].get("Item") or {}
                    if old.get("message_id", {}).get("S") == message.id:
                        # Our own claim: an earlier try of this very transaction committed.
                        return Recorded(message.id)
                    if "message_id" in old:
                        same_content = old.get("content_hash", {}).get("S") == claim.content_hash
                        same_network = old.get("ip_hash", {}).get("S") == message.ip_hash
                        return Duplicate(old["message_id"]["S"], same_content, claim.by_key or same_network)
                if "rate" in refused:
                    old = cancelled["rate"].get("Item") or {}
                    count, window = limits.rate_limit_count, limits.rate_limit_window_seconds
                    return RateLimited(retry_after=ratelimit.retry_after(old, count, window, now))
                if refused == {"repeat"}:
                    return Repeated()
                codes = [reason.get("Code") for reason in cancelled.values()]
                if "TransactionConflict" in codes and attempt + 1 < TRANSACTION_TRIES:
                    # A racing submission holds an item: once it lands, the claim decides.
                    time.sleep(0.05 * (attempt + 1))
                    continue
                conflicted = {kind for kind, reason in cancelled.items() if reason.get("Code") == "TransactionConflict"}
                if conflicted == {"repeat"}:
                    # Only the count of its text kept conflicting: the same text, sent at the same
                    # moment from elsewhere again and again, is what a campaign does.
                    return Repeated()
                raise StorageUnavailable(f"transaction cancelled: {codes}") from error
            except BotoCoreError as error:
                raise StorageUnavailable("transact_write_items failed") from error
        raise StorageUnavailable("transaction kept conflicting")

    def transaction(
        self, message: Message, claim: Claim, limits: Limits, now: float, repeat: dict[str, Any] | None
    ) -> dict[str, dict[str, Any]]:
        """``record``'s items by what each is: message, claim, and the counts that apply."""
        items: dict[str, dict[str, Any]] = {
            "message": {
                "Put": {
                    "TableName": self.table_name,
                    "Item": self.message_item(message, now, limits.retention_days),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            "claim": {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        **claim_item_key(claim),
                        "message_id": {"S": message.id},
                        "content_hash": {"S": claim.content_hash},
                        "ip_hash": {"S": message.ip_hash},
                        "expires_at": {"N": str(int(now) + claim.window_seconds)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                    "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        }
        count, window = limits.rate_limit_count, limits.rate_limit_window_seconds
        if count:
            key = {"pk": {"S": f"RATE#{message.ip_hash}"}, "sk": {"S": "RATE"}}
            items["rate"] = {
                "Update": {"TableName": self.table_name, "Key": key, **ratelimit.counted(count, window, now)}
            }
        if repeat:
            items["repeat"] = {"Update": {"TableName": self.table_name, **repeat}}
        return items

    def claimed(self, claim: Claim, now: float) -> str | None:
        """The id of the message holding ``claim`` (live, with the same content), if any.

        None also when DynamoDB cannot say: the caller then answers as if unclaimed.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            item = self.client.get_item(
                TableName=self.table_name,
                Key=claim_item_key(claim),
                ConsistentRead=True,
            ).get("Item")
        except (BotoCoreError, ClientError):
            return None
        if not item or int(item["expires_at"]["N"]) < now or item["content_hash"]["S"] != claim.content_hash:
            return None
        message_id: str = item["message_id"]["S"]
        return message_id

    def holds(self, message_id: str) -> bool | None:
        """Whether the message is stored (a consistent read); None when DynamoDB cannot say."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_item(
                TableName=self.table_name, Key=message_key(message_id), ConsistentRead=True, ProjectionExpression="pk"
            )
        except (BotoCoreError, ClientError):
            return None
        return "Item" in response

    def mark_sent(self, message_id: str, attempts: int, now: float | None = None) -> None:
        """The notification went out: the message leaves the pending index."""
        self._update(
            message_id,
            "SET notify_status = :sent, notify_attempts = :attempts, notified_at = :at "
            "REMOVE pending_pk, pending_sk, last_error",
            {
                ":sent": {"S": NotifyStatus.SENT},
                ":attempts": {"N": str(attempts)},
                ":at": {"S": iso_time(time.time() if now is None else now)},
            },
        )

    def mark_attempt_failed(self, message_id: str, attempts: int, error_code: str, retry_at: float | None) -> None:
        """A failed attempt: due again at ``retry_at``, or failed for good when it is None."""
        values = {":attempts": {"N": str(attempts)}, ":error": {"S": error_code}}
        if retry_at is None:
            self._update(
                message_id,
                "SET notify_status = :failed, notify_attempts = :attempts, last_error = :error "
                "REMOVE pending_pk, pending_sk",
                {**values, ":failed": {"S": NotifyStatus.FAILED}},
            )
        else:
            self._update(
                message_id,
                "SET notify_status = :retrying, notify_attempts = :attempts, last_error = :error, "
                "pending_pk = :pending, pending_sk = :due",
                {
                    **values,
                    ":retrying": {"S": NotifyStatus.RETRYING},
                    ":pending": {"S": PENDING_PARTITION},
                    ":due": {"S": pending_sort_key(retry_at, message_id)},
                },
            )

    def recent(
        self,
        *,
        since: str | None = None,
        shown: Shown | None = None,
        notify_status: NotifyStatus | None = None,
        after: str | None = None,
    ) -> Iterator[Message]:
        """Messages newest first, from the ``recent`` index (never a scan): received on or after
        ``since``, shown as ``shown``, with ``notify_status``, older than the one whose
        ``recent_sk`` is ``after``."""
        query: dict[str, Any] = {
            "IndexName": RECENT_INDEX,
            "KeyConditionExpression": "recent_pk = :partition" + (" AND recent_sk >= :since" if since else ""),
            "ExpressionAttributeValues": {":partition": {"S": RECENT_PARTITION}},
            "ScanIndexForward": False,
            "Limit": RECENT_PAGE,
        }
        if since:
            query["ExpressionAttributeValues"][":since"] = {"S": since}
        if shown:
            only = shown_filter(shown)
            query["ExpressionAttributeValues"] |= only.pop("ExpressionAttributeValues")
            query |= only
        elif notify_status:
            query["FilterExpression"] = "notify_status = :status"
            query["ExpressionAttributeValues"][":status"] = {"S": notify_status.value}
        if after:
            query["ExclusiveStartKey"] = recent_key(after)
        while True:
            page = self._call("query", **query)
            for item in page.get("Items", []):
                yield Message.from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def change_state(self, message_id: str, action: str, by: str, now: float) -> Changed | Unchanged | None:
        """Mark a message replied, closed or reopened, if its state allows; None if there is no such message."""
        allowed, to = TRANSITIONS[action]
        values = {f":from{n}": {"S": state.value} for n, state in enumerate(sorted(allowed))}
        condition = f"attribute_exists(pk) AND #state IN ({', '.join(values)})"
        if InboxState.NEW in allowed:
            condition = f"attribute_exists(pk) AND (attribute_not_exists(#state) OR #state IN ({', '.join(values)}))"
        return self._audited(
            message_id,
            action,
            by,
            now,
            "SET #state = :to",
            condition,
            values | {":to": {"S": to.value}},
        )

    def not_spam(self, message_id: str, by: str, now: float) -> Changed | Unchanged | None:
        """Take a message out of spam: its alert becomes due (in the pending index, leased to
        this request, which sends it; the retry function sends it if this request cannot)."""
        return self._audited(
            message_id,
            "not spam",
            by,
            now,
            "SET notify_status = :pending, notify_attempts = :zero, pending_pk = :partition, pending_sk = :due",
            "notify_status = :spam",
            {
                ":pending": {"S": NotifyStatus.PENDING},
                ":spam": {"S": NotifyStatus.SPAM},
                ":zero": {"N": "0"},
                ":partition": {"S": PENDING_PARTITION},
                ":due": {"S": pending_sort_key(now + NOTIFY_LEASE_SECONDS, message_id)},
            },
        )

    def _audited(
        self, message_id: str, action: str, by: str, now: float, update: str, condition: str, values: dict[str, Any]
    ) -> Changed | Unchanged | None:
        """Update a message if ``condition`` holds, recording who did what and when: on the
        message (the last change) and in its ``history`` (every one)."""
        entry = {"M": {"action": {"S": action}, "by": {"S": by}, "at": {"S": iso_time(now)}}}
        names = {"#state": "inbox_state"} if "#state" in update + condition else {}
        try:
            response = self._call(
                "update_item",
                Key=message_key(message_id),
                UpdateExpression=f"{update}, state_by = :by, state_at = :at, "
                "history = list_append(if_not_exists(history, :none), :entry)",
                ConditionExpression=condition,
                ExpressionAttributeValues=values
                | {":by": {"S": by}, ":at": {"S": iso_time(now)}, ":none": {"L": []}, ":entry": {"L": [entry]}},
                **({"ExpressionAttributeNames": names} if names else {}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as refused:
            return Unchanged(Message.from_item(refused.old)) if refused.old else None
        return Changed(Message.from_item(response["Attributes"]))

    def release_claim(self, claim: Claim, message_id: str) -> None:
        """Free ``claim`` if ``message_id``, which made it, still holds it."""
        with contextlib.suppress(ConditionFailed):
            self._call(
                "delete_item",
                Key=claim_item_key(claim),
                ConditionExpression="message_id = :id",
                ExpressionAttributeValues={":id": {"S": message_id}},
            )

    def delete(self, message_id: str) -> bool:
        """Erase a message; False if there was none."""
        try:
            self._call("delete_item", Key=message_key(message_id), ConditionExpression="attribute_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def _call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        """One call on the table: its answer, ConditionFailed, or StorageUnavailable if DynamoDB fails."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, operation)(TableName=self.table_name, **arguments)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConditionFailed(error.response.get("Item")) from None
            raise StorageUnavailable(f"{operation} failed") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"{operation} failed") from error
        return response

    def _update(self, message_id: str, expression: str, values: dict[str, Any]) -> None:
        """Update a message that must exist; ``values`` are typed DynamoDB attribute values."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=message_key(message_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
            )
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable("update_item failed") from error

    def record_delivery(self, report: DeliveryReport) -> ReportOutcome:
        """Record what SES reported of an alert, unless what is recorded should stand
        (``delivery_update``): so a repeated report, or one arriving late, changes nothing."""
        from botocore.exceptions import BotoCoreError, ClientError

        expression, condition, values = delivery_update(report)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=message_key(report.message_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                # Tells a message that is not there from one whose record stands.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StorageUnavailable("update_item failed") from error
            return ReportOutcome.UNCHANGED if error.response.get("Item") else ReportOutcome.UNKNOWN
        except BotoCoreError as error:
            raise StorageUnavailable("update_item failed") from error
        return ReportOutcome.RECORDED

    def due(self, now: float, limit: int = 25) -> list[Due]:
        """Messages whose notification is due by ``now``, oldest due first."""
        response = self.client.query(
            TableName=self.table_name,
            IndexName=PENDING_INDEX,
            KeyConditionExpression="pending_pk = :pending AND pending_sk <= :now",
            ExpressionAttributeValues={":pending": {"S": PENDING_PARTITION}, ":now": {"S": iso_time(now) + "~"}},
            Limit=limit,
        )
        return [
            Due(item["pk"]["S"].removeprefix("MSG#"), item["pending_sk"]["S"]) for item in response.get("Items", [])
        ]

    def lease(self, due: Due, now: float) -> Item | None:
        """Take a due message for one notification attempt: its item as stored (the caller reads
        it with ``Message.from_item``, where an item edited by hand can fail); None if another
        run took it first."""
        message_id = due.message_id
        from botocore.exceptions import ClientError

        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=message_key(message_id),
                UpdateExpression="SET pending_sk = :leased",
                ConditionExpression="pending_sk = :seen",
                ExpressionAttributeValues={
                    ":seen": {"S": due.pending_sk},
                    ":leased": {"S": pending_sort_key(now + NOTIFY_LEASE_SECONDS, message_id)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        attributes: Item = response["Attributes"]
        return attributes

    def last_digest(self) -> tuple[int, str]:
        """When the held-message digest was last sent (0: never), and where its count ended ("": nowhere)."""
        item = self._call("get_item", Key=DIGEST_KEY, ConsistentRead=True).get("Item", {})
        return int(item.get("sent_at", {}).get("N", "0")), str(item.get("counted_until", {}).get("S", ""))

    def claim_digest(self, last_sent_at: int, now: float) -> bool:
        """Take the digest's turn, unless another run took it since ``last_sent_at`` was read:
        one conditional write, so that two runs never both send it."""
        try:
            self._call(
                "update_item",
                Key=DIGEST_KEY,
                UpdateExpression="SET sent_at = :now",
                ConditionExpression="attribute_not_exists(sent_at) OR sent_at = :last",
                ExpressionAttributeValues={":now": {"N": str(int(now))}, ":last": {"N": str(last_sent_at)}},
            )
        except ConditionFailed:
            return False
        return True

    def digest_sent(self, counted_until: str) -> None:
        """Record where the digest's count ended: the next one counts from there."""
        self._call(
            "update_item",
            Key=DIGEST_KEY,
            UpdateExpression="SET counted_until = :until",
            ExpressionAttributeValues={":until": {"S": counted_until}},
        )

    def digest_not_sent(self, last_sent_at: int) -> None:
        """Give the turn back, so that the next run tries again."""
        self._call(
            "update_item",
            Key=DIGEST_KEY,
            UpdateExpression="SET sent_at = :last",
            ExpressionAttributeValues={":last": {"N": str(last_sent_at)}},
        )

    def get(self, message_id: str) -> Message | None:
        response = self._call("get_item", Key=message_key(message_id), ConsistentRead=True)
        return Message.from_item(response["Item"]) if "Item" in response else None
