"""The inbox's items in the contact table (see handler/storage.py for the table's design).

| item | pk | sk |
| --- | --- | --- |
| sign-in link | ``LOGIN#<sha256 of the token>`` | ``LOGIN`` |
| session | ``SESSION#<sha256 of the session id>`` | ``SESSION`` |
| rate counter | ``RATE#<key>#<window start>`` | ``RATE`` |

Only hashes of tokens and session ids are stored: a copy of the table signs
nobody in. Each item carries ``expires_at`` for DynamoDB's TTL, which deletes
lazily, so every read compares it with the clock too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from handler import aws, ratelimit
from handler.config import settings
from handler.storage import ConditionFailed


class InboxUnavailable(Exception):
    """DynamoDB could not be reached or refused the call; the cause is chained."""


@dataclass(frozen=True)
class SignInLink:
    email: str
    next_path: str
    expires_at: int


@dataclass(frozen=True)
class Session:
    email: str
    csrf_token: str
    expires_at: int


@dataclass(frozen=True)
class Expired:
    """A sign-in link that exists but is past its time."""


def digest(secret_value: str) -> str:
    """The stored form of a token or session id: both are 256 random bits, so a plain hash will do."""
    return hashlib.sha256(secret_value.encode("ascii")).hexdigest()


def item_key(kind: str, secret_value: str) -> dict[str, Any]:
    return {"pk": {"S": f"{kind}#{digest(secret_value)}"}, "sk": {"S": kind}}


def call(client: Any, operation: str, **arguments: Any) -> dict[str, Any]:
    """One DynamoDB call: its answer, ConditionFailed, or InboxUnavailable."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response: dict[str, Any] = getattr(client, operation)(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise ConditionFailed(error.response.get("Item")) from None
        raise InboxUnavailable(f"{operation} failed") from error
    except BotoCoreError as error:
        raise InboxUnavailable(f"{operation} failed") from error
    return response


def count_hit(client: Any, table_name: str, key: str, limit: int, window: int, now: float) -> int | None:
    """Count one hit on ``key`` in a sliding window, as the contact form's limit counts
    (handler/ratelimit.py); the seconds to wait when over ``limit``, else None."""
    try:
        call(
            client,
            "update_item",
            TableName=table_name,
            Key={"pk": {"S": f"RATE#{key}"}, "sk": {"S": "RATE"}},
            **ratelimit.counted(limit, window, now),
        )
    except ConditionFailed as refused:
        return ratelimit.retry_after(refused.old or {}, limit, window, now)
    return None


class InboxStore:
    """Sign-in links and sessions, through a low-level DynamoDB client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        return call(self.client, operation, TableName=self.table_name, **arguments)

    def add_link(self, token: str, link: SignInLink) -> None:
        item = {"email": {"S": link.email}, "next": {"S": link.next_path}, "expires_at": {"N": str(link.expires_at)}}
        self.call("put_item", Item={**item_key("LOGIN", token), **item})

    def take_link(self, token: str, now: float) -> SignInLink | Expired | None:
        """Use up the link: one conditional delete, so two racing uses cannot both succeed.

        None: no such link (never issued, tampered with, or already used).
        """
        try:
            old = self.call(
                "delete_item",
                Key=item_key("LOGIN", token),
                ConditionExpression="expires_at > :now",  # false for a missing item too
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except ConditionFailed as failed:
            return Expired() if failed.old else None
        return SignInLink(old["email"]["S"], old["next"]["S"], int(old["expires_at"]["N"]))

    def add_session(self, session_id: str, session: Session) -> None:
        item = {
            "email": {"S": session.email},
            "csrf_token": {"S": session.csrf_token},
            "expires_at": {"N": str(session.expires_at)},
        }
        self.call("put_item", Item={**item_key("SESSION", session_id), **item})

    def session(self, session_id: str, now: float) -> Session | None:
        """The live session, if any (read consistently: a sign-out holds at once)."""
        item = self.call("get_item", Key=item_key("SESSION", session_id), ConsistentRead=True).get("Item")
        if not item or int(item["expires_at"]["N"]) <= now:
            return None
        return Session(item["email"]["S"], item["csrf_token"]["S"], int(item["expires_at"]["N"]))

    def end_session(self, session_id: str) -> None:
        self.call("delete_item", Key=item_key("SESSION", session_id))


def current_store() -> InboxStore:
    """The running app's contact table, through its DynamoDB client."""
    return InboxStore(aws.clients().dynamodb, settings().contact_table_name)
