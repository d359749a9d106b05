"""Client addresses allowed by a setting: a space-separated list of addresses or networks.

Used for who may read metrics without a key (`--metrics-allow`): an intranet
Prometheus scrapes without a browser session.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks_of(text: str) -> list[Network]:
    """The networks of `10.0.0.5 10.1.0.0/16 fd00::/8`; ValueError names a bad one."""
    return [ipaddress.ip_network(part, strict=False) for part in text.split()]


def address_allowed(address: str | None, networks: Sequence[Network], loopback: bool) -> bool:
    """Whether a client address is in the networks (or loopback, when that is allowed)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return (loopback and ip.is_loopback) or any(ip in network for network in networks)
