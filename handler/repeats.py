"""Repeats: the same text sent from many client networks, as a spam campaign sends it (issue #14).

Each text long enough to count is named by a keyed hash of it, normalised
(NFKC, lower case, single spaces: ``spam.fold``), so that the table never
holds the text and nobody without the secret can test a guess. Its item
(``REPEAT#<hash>#<window>``, ``REPEAT``) holds the set of the client networks'
keyed hashes (``ip_hash``) that sent it in the current window, and expires with
the window (DynamoDB's TTL). The update that adds a network goes in the
transaction that stores the message, as the rate limit's does; it is refused
(``ConditionalCheckFailed``) when ``REPEAT_NETWORKS`` other networks already sent
the text in this window: the message is then a repeat (``REASON``), to be stored
held. The same network sending again (a retry, a correction) never counts twice.

The window is fixed, not sliding: a campaign that spans its end counts afresh in
the next one, and is held again once as many networks have sent it there.
A short text ("Do you have openings?") never counts: many people write it.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from handler.message import Item
from handler.spam import fold
from handler.storage import keyed_hash

REASON = "repeated"
REPEAT_NETWORKS = 5  # other client networks that sent the same text in the window: the next is a repeat
REPEAT_WINDOW_SECONDS = 24 * 3600
MIN_WORDS = 12  # a shorter text may be common to many people


def text_hash(secret: bytes, message: str) -> str | None:
    """The keyed hash that names ``message``'s text, normalised; None for a text too short to count."""
    normalised = fold(unicodedata.normalize("NFKC", message)).strip()
    if len(normalised.split()) < MIN_WORDS:
        return None
    return keyed_hash(secret, "repeat", normalised)


def counted(
    text: str,
    ip_hash: str,
    now: float,
    networks: int = REPEAT_NETWORKS,
    window_seconds: int = REPEAT_WINDOW_SECONDS,
) -> dict[str, Any]:
    """The key, condition and update that add the client's network to the text's item, in a
    ``TransactWriteItems`` ``Update`` (the caller adds the table): refused when ``networks``
    other networks sent the text in this window."""
    window = math.floor(now / window_seconds)
    key: Item = {"pk": {"S": f"REPEAT#{text}#{window}"}, "sk": {"S": "REPEAT"}}
    return {
        "Key": key,
        "UpdateExpression": "ADD networks :networks SET expires_at = :expires",
        "ConditionExpression": "attribute_not_exists(networks) OR size(networks) < :most OR contains(networks, :network)",
        "ExpressionAttributeValues": {
            ":networks": {"SS": [ip_hash]},
            ":network": {"S": ip_hash},
            ":most": {"N": str(networks)},
            ":expires": {"N": str((window + 1) * window_seconds)},
        },
    }
