"""Outbound HTTP that cannot be aimed inward: the webhook client.

A subscription URL is refused (422 at creation, an error at delivery) when its host resolves to an address
that is not a public unicast one: loopback, private (RFC 1918, unique-local), link-local, multicast,
unspecified, reserved, shared (CGNAT), documentation and benchmark ranges, and the cloud metadata addresses;
IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``,
6to4 ``2002::/16``, Teredo ``2001::/32``, NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``) are judged by the
IPv4 address they carry as well. A URL with userinfo (``user:pass@``) is refused.

The check runs again at every connection (:class:`GuardedBackend`): the host is resolved, every address
checked, and the socket connected to a checked address, so a DNS answer that changes between the check
and the connection (rebinding) cannot reach an inside address. TLS keeps the URL's host name (SNI and
certificate check) and the Host header stays the URL's. Redirects are not followed, proxies from the
environment are not used, and every delivery has one total deadline (:func:`deadline`) that bounds DNS,
connect, TLS, write and every read together: a receiver trickling bytes is cut when it passes."""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import math
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import httpcore
import httpx
from httpcore._backends.sync import SyncBackend

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services (most are in link-local or private ranges anyway; listed so the refusal says so).
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS DNS
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::23",  # AWS time sync
    )
)
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Not public unicast, beyond what `ipaddress` flags as non-global.
_EXTRA_V4 = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "198.18.0.0/15",
        "224.0.0.0/3",
        "255.255.255.255/32",
    )
)


class UnsafeURL(ValueError):
    """A webhook URL the platform refuses to call (the message says why)."""


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def refusal(ip: IPAddress) -> str | None:
    """Why `ip` may not be called (None: a public unicast address)."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped (link-local) address"
        for v4 in _embedded_v4(ip):
            why = refusal(v4)
            if why is not None:
                return f"{why} (embedded in {ip})"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (isinstance(ip, ipaddress.IPv4Address) and any(ip in n for n in _EXTRA_V4), "a special-use address"),
        (not ip.is_global, "not a global address"),
    )
    for flagged, why in checks:
        if flagged:
            return why
    return None


def _parse_literal(host: str) -> IPAddress | None:
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    return None


# DNS lookups run here so that a hanging resolver is bounded by the delivery deadline.
_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook-dns")


def resolve(host: str, port: int, *, timeout: float | None = None) -> list[IPAddress]:
    """Every address `host` resolves to (a literal: itself), in the resolver's order."""
    literal = _parse_literal(host)
    if literal is not None:
        if isinstance(literal, ipaddress.IPv6Address) and "%" in host:
            raise UnsafeURL(f"{host} is a scoped (link-local) address")
        return [literal]
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than the delivery deadline") from exc
    except socket.gaierror as exc:
        raise UnsafeURL(f"{host} does not resolve: {exc.strerror}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and len(sockaddr) >= 4 and sockaddr[3]:
            ip = ipaddress.IPv6Address(f"{ip}%{sockaddr[3]}")
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeURL(f"{host} does not resolve")
    return addresses


def checked_addresses(
    host: str, port: int, *, allow_private: bool, timeout: float | None = None
) -> list[IPAddress]:
    """The addresses to connect to; UnsafeURL when any address of `host` is not public (unless allowed)."""
    name = host.strip("[]").rstrip(".").lower()
    if not name:
        raise UnsafeURL("the URL has no host")
    if name in METADATA_HOSTS and not allow_private:
        raise UnsafeURL(f"{host} is a cloud metadata host")
    addresses = resolve(name, port, timeout=timeout)
    if allow_private:
        return addresses
    for ip in addresses:
        why = refusal(ip)
        if why is not None:
            raise UnsafeURL(f"{host} resolves to {ip}, {why}")
    return addresses


def check_url(url: str, *, allow_private: bool, timeout: float | None = 5.0) -> None:
    """What subscription creation runs: scheme, no userinfo, host resolving to public addresses only."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeURL(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURL("the URL must be http or https")
    if parsed.userinfo:
        raise UnsafeURL("the URL must not carry credentials (user:password@); sign with the secret instead")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        checked_addresses(parsed.host, port, allow_private=allow_private, timeout=timeout)
    except httpcore.ConnectTimeout as exc:
        raise UnsafeURL(f"{parsed.host} did not resolve in time") from exc


# --- the total deadline of one delivery ---------------------------------------------------------

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("webhook_deadline", default=None)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Every socket operation inside this block (this thread) ends by ``now + seconds``."""
    at = time.monotonic() + seconds
    token = _deadline.set(at)
    try:
        yield at
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    at = _deadline.get()
    if at is None:
        return timeout
    remaining = at - time.monotonic()
    if remaining <= 0:
        raise error("the delivery deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write is cut at the delivery deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(SyncBackend):
    """Resolve, check every address, connect to a checked one (the URL's host stays the TLS server name)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        try:
            addresses = checked_addresses(host, port, allow_private=self.allow_private, timeout=bounded)
        except UnsafeURL as exc:
            raise httpcore.ConnectError(f"refused: {exc}") from exc
        error: Exception | None = None
        for ip in addresses:
            try:
                stream = super().connect_tcp(
                    str(ip),
                    port,
                    _bounded(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return DeadlineStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not webhook targets")


class GuardedTransport(httpx.HTTPTransport):
    """httpx transport over :class:`GuardedBackend`; one fresh connection per delivery (each one checked)."""

    def __init__(self, *, allow_private: bool, max_connections: int = 100) -> None:
        super().__init__(trust_env=False, retries=0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=GuardedBackend(allow_private=allow_private),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.userinfo:
            raise httpx.ConnectError("refused: the URL carries credentials", request=request)
        return super().handle_request(request)


def guarded_client(*, allow_private: bool, max_connections: int = 100) -> httpx.Client:
    return httpx.Client(
        transport=GuardedTransport(allow_private=allow_private, max_connections=max_connections),
        follow_redirects=False,
        trust_env=False,
    )


def read_capped(response: httpx.Response, *, max_bytes: int) -> tuple[bytes, bool]:
    """At most `max_bytes` of a streamed response's raw body; (body, whether more was left unread)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw(chunk_size=min(max_bytes + 1, 65_536) if max_bytes else 1):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


def timeout_for(seconds: float) -> httpx.Timeout:
    """Per-phase timeouts no longer than the whole deadline (the deadline itself cuts the total)."""
    return httpx.Timeout(math.ceil(seconds * 1000) / 1000)
