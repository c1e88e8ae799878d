"""The webhook egress guard over many address forms (no network: literal addresses and `localhost`)."""

from __future__ import annotations

import ipaddress

import pytest

from services.api.subscriptions.egress import UnsafeURL, check_url, checked_addresses, refusal

REFUSED = [
    # IPv4: loopback in every spelling the resolver accepts
    "127.0.0.1",
    "127.1",
    "127.255.255.254",
    "0x7f.0.0.1",
    "0x7f000001",
    "2130706433",
    "017700000001",
    "0177.0.0.1",
    "localhost",
    # unspecified, private, shared, link-local, metadata, multicast, broadcast, reserved, special-use
    "0.0.0.0",
    "0",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "100.64.0.1",
    "169.254.0.1",
    "169.254.169.254",
    "169.254.170.2",
    "100.100.100.200",
    "192.0.0.192",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "198.18.0.1",
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    # IPv6: loopback, unspecified, link-local, unique-local, site-local, multicast, documentation
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",
    "2001:db8::1",
    "fd00:ec2::254",
    # IPv4 carried in IPv6: mapped, compatible, 6to4, NAT64 (well-known and local prefix), Teredo
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "::10.0.0.1",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    "2002:c0a8:101::1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::10.1.1.1",
    "64:ff9b:1::a00:1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
]

ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e"]


@pytest.mark.parametrize("host", REFUSED)
def test_inside_addresses_are_refused(host: str) -> None:
    with pytest.raises(UnsafeURL, match="resolves to|scoped|metadata"):
        checked_addresses(host, 80, allow_private=False)


@pytest.mark.parametrize("host", ALLOWED)
def test_public_addresses_are_allowed(host: str) -> None:
    assert checked_addresses(host, 443, allow_private=False) == [ipaddress.ip_address(host)]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://[::1]:8000/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fe80::1%25eth0]/", "scoped|link-local|valid URL"),
        ("http://metadata.google.internal/", "metadata|resolve"),
        ("http://10.1.2.3:5555/api/workers", "private"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("http://localhost./", "loopback"),
        ("https://admin:admin@8.8.8.8/", "credentials"),
        ("https://admin@8.8.8.8/", "credentials"),
        ("ftp://8.8.8.8/", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://8.8.8.8:6379/_INFO", "http or https"),
    ],
)
def test_check_url_says_why(url: str, why: str) -> None:
    with pytest.raises(UnsafeURL, match=why):
        check_url(url, allow_private=False)


def test_a_public_url_passes_and_private_ones_pass_only_when_allowed() -> None:
    check_url("https://8.8.8.8/hook", allow_private=False)
    check_url("http://127.0.0.1:9/hook", allow_private=True)
    with pytest.raises(UnsafeURL, match="credentials"):
        check_url("http://u:p@127.0.0.1:9/hook", allow_private=True)  # never, whatever the setting


def test_refusal_names_the_reason() -> None:
    assert refusal(ipaddress.ip_address("8.8.8.8")) is None
    assert refusal(ipaddress.ip_address("169.254.169.254")) == "a cloud metadata address"
    assert refusal(ipaddress.ip_address("::ffff:10.0.0.1")) == "a private address (embedded in ::ffff:a00:1)"
    assert refusal(ipaddress.ip_address("::ffff:8.8.8.8")) is not None  # a mapped form is never a target


def test_the_verify_snippet_checks_signature_and_tolerance_window() -> None:
    from services.api.subscriptions.service import signature_header, verify_signature

    body, t = b'{"delivery_id": "d"}', 1_800_000_000
    header = signature_header(
        secrets_=["new-secret-0123456789", "old-secret-0123456789"], timestamp=t, body=body
    )
    assert header.startswith(f"t={t},v1=")
    assert header.count("v1=") == 2
    for secret in ("new-secret-0123456789", "old-secret-0123456789"):  # during a rotation: either one
        assert verify_signature(secret=secret, header=header, body=body, now=t + 10)
    assert not verify_signature(secret="another-secret-0123456", header=header, body=body, now=t)
    assert not verify_signature(secret="new-secret-0123456789", header=header, body=body + b" ", now=t)
    assert not verify_signature(secret="new-secret-0123456789", header=header, body=body, now=t + 301)
    assert not verify_signature(secret="new-secret-0123456789", header=header, body=body, now=t - 301)
    assert verify_signature(secret="new-secret-0123456789", header=header, body=body, now=t + 299)
    assert not verify_signature(secret="new-secret-0123456789", header="v1=abc", body=body, now=t)
