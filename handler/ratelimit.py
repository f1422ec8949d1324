"""The rate limit's client: a network, not an address string.

An IPv4 address is its own network. An IPv6 address counts with its /64, the
usual allocation for one household or phone, inside which a device picks its
own addresses at will (and changes them daily with privacy extensions). An
IPv4 address wrapped in IPv6 (``::ffff:192.0.2.9``) is the IPv4 address. Each
network is written one way only, so that one client has one key; only a keyed
hash of it is ever stored.
"""

from __future__ import annotations

import ipaddress

IPV6_PREFIX = 64


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
