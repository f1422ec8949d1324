"""The rate limit: at most ``RATE_LIMIT_COUNT`` messages from one client network in
any ``RATE_LIMIT_WINDOW_SECONDS``, checked and counted in the transaction that
stores a message, without a read first.

The client is a network, not an address string. An IPv4 address is its own
network. An IPv6 address counts with its /64, the usual allocation for one
household or phone, inside which a device picks its own addresses at will
(and changes them daily with privacy extensions). An IPv4 address wrapped in
IPv6 (``::ffff:192.0.2.9``) is the IPv4 address. Each network is written one
way only, so that one client has one key; only a keyed hash of it is stored.

The window slides: a fixed one let a client send twice the limit in a moment
across its edge. The network's item holds the times (milliseconds) of its
last ``RATE_LIMIT_COUNT`` accepted messages, newest first, as ``t0``,
``t1`` …: a message is accepted when the oldest of them is at least a window
old, and the update shifts them along (``t1 = t0``, ``t2 = t1`` … ``t0 = now``).
DynamoDB evaluates every operand of an update against the item as it was
before it (``test_ratelimit`` shows it on both engines), so this shifts.
A changed ``RATE_LIMIT_COUNT`` holds from the next message: a lower one reads
an earlier slot, a higher one finds its oldest slot empty until filled.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any

from handler.message import Item

IPV6_PREFIX = 64
# The most RATE_LIMIT_COUNT may be: one attribute per message, all in one
# update expression, which must stay small (DynamoDB allows 4 KB).
MOST = 50


def network(address: str) -> str:
    """The client network ``address`` belongs to, canonical: ``192.0.2.9``, ``2001:db8:1:2::/64``."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an address (API Gateway's test invocations say "test-invoke-source-ip")
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        # From the number: it drops a zone (fe80::1%eth0), which names the server's interface.
        return str(ipaddress.IPv6Network((int(parsed), IPV6_PREFIX), strict=False))
    return str(parsed)


def counted(count: int, window_seconds: int, now: float) -> dict[str, Any]:
    """The condition and update that count one more message on the network's item, in a
    ``TransactWriteItems`` ``Update`` (the caller adds the table and key)."""
    millis = int(now * 1000)
    oldest = f"t{count - 1}"
    shifts = [f"t{n} = if_not_exists(t{n - 1}, :none)" for n in range(count - 1, 0, -1)]
    values = {
        ":now": {"N": str(millis)},
        ":cutoff": {"N": str(millis - window_seconds * 1000)},
        # Once its newest time is a window old, the item counts for nothing.
        ":expires": {"N": str(math.ceil(now) + window_seconds)},
    }
    if shifts:
        values[":none"] = {"N": "0"}  # DynamoDB refuses a value no expression uses
    return {
        "UpdateExpression": "SET " + ", ".join([*shifts, "t0 = :now", "expires_at = :expires"]),
        "ConditionExpression": f"attribute_not_exists({oldest}) OR {oldest} <= :cutoff",
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def retry_after(item: Item, count: int, window_seconds: int, now: float) -> int:
    """Whole seconds until the oldest counted message leaves the window, from the item as it
    was when the limit refused one."""
    oldest = item.get(f"t{count - 1}", {}).get("N")
    if oldest is None:
        return window_seconds
    return max(1, math.ceil((int(oldest) + window_seconds * 1000 - now * 1000) / 1000))
