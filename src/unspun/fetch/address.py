"""Which addresses unspun connects to when it fetches: the host is resolved once, every address it
resolves to is checked (loopback, private, link-local, multicast, reserved, unspecified and cloud
metadata addresses are refused unless allowed), and the connection goes to an address that was
checked, never through a second lookup, so DNS rebinding cannot swap it in between."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable

import httpcore

from unspun.errors import FetchTimeout, HostNotFound, URLRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (as text, in the resolver's order).
Resolver = Callable[[str, int], list[str]]

# Cloud instance metadata services answer credentials to anything on the machine that asks; some
# of them sit on addresses that are otherwise public (Azure's wire server).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, Oracle, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
ALLOW_HINT = "allowed only when unspun runs with --allow-private-urls"


def _embedded_ipv4(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), else itself: a
    check of ::ffff:127.0.0.1 must see 127.0.0.1."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why unspun will not connect to ``address`` by default ("a loopback address"), or None for a
    public address."""
    ip = ipaddress.ip_address(str(address).split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    for candidate in dict.fromkeys([_embedded_ipv4(ip), ip]):  # the carried IPv4 first
        if candidate in METADATA_ADDRESSES:
            return "a cloud metadata address"
        for test, reason in (
            ("is_loopback", "a loopback address"),
            ("is_unspecified", "an unspecified address"),
            ("is_link_local", "a link-local address"),
            ("is_multicast", "a multicast address"),
            ("is_private", "a private address"),
            ("is_reserved", "a reserved address"),
        ):
            if getattr(candidate, test):
                return reason
        if not candidate.is_global:
            return "a non-public address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the system resolver's order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise HostNotFound(f"cannot resolve the host {host} ({exc.strerror})") from None
    except (UnicodeError, ValueError):
        raise HostNotFound(f"cannot resolve the host {host} (not a valid host name)") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotFound(f"cannot resolve the host {host} (no addresses)")
    return addresses


def check_addresses(host: str, addresses: Iterable[str], *, allow_private: bool) -> None:
    """Refuse the host when any of its addresses is not public (unless allowed): a name that
    resolves to a public and a private address could be answered by either."""
    if allow_private:
        return
    for address in addresses:
        reason = blocked_reason(address)
        if reason is not None:
            where = f"{host} is" if host == address else f"{host} resolves to {address},"
            raise URLRefused(f"{where} {reason} ({ALLOW_HINT})")


class CheckedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses that passed the check. The URL keeps
    its host name, so the Host header, TLS server name (SNI) and certificate check use the name;
    only the TCP connection goes to the address resolved and checked here. Every new connection
    (each redirect to another host) is resolved and checked again."""

    def __init__(self, *, allow_private: bool = False, resolver: Resolver | None = None) -> None:
        self.allow_private = allow_private
        self.resolver = resolver or system_resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options=None,
    ) -> httpcore.NetworkStream:
        host = host.strip("[]")
        addresses = self._resolve(host, port, timeout)
        check_addresses(host, addresses, allow_private=self.allow_private)
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The resolver's answer within the connect time limit: the system's lookup has no time
        limit of its own, and a name whose servers do not answer must not hold a fetch."""
        if timeout is None:
            return self.resolver(host, port)
        answer: dict[str, object] = {}

        def look_up() -> None:
            try:
                answer["addresses"] = self.resolver(host, port)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                answer["error"] = exc

        thread = threading.Thread(target=look_up, name="unspun-dns", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise FetchTimeout(f"looking up {host} took longer than {timeout:g} s")
        if "error" in answer:
            raise answer["error"]  # type: ignore[misc]
        return answer["addresses"]  # type: ignore[return-value]
