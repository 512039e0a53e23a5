"""The address guard without I/O: how addresses are read and judged, the allow list, and the
backend's resolve-once-connect-to-what-was-checked rule (fake resolver, fake opener).

These tests are not marked `integration`: any socket they opened would fail them, so a refusal
here is proven to happen before a connection is attempted.
"""

from __future__ import annotations

import ipaddress
import socket
import time

import httpcore
import httpx
import pytest

from ingest.netguard import (
    AllowList,
    BlockedError,
    DeadlineExceeded,
    GuardedBackend,
    _clamp,
    classify,
    fetch_deadline,
    guarded_client,
    parse_ip,
    refusal,
)

ip = ipaddress.ip_address


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0.0.0.0", "0.0.0.0"),
        ("169.254.169.254", "169.254.169.254"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("[0:0:0:0:0:ffff:7f00:1]", "::ffff:7f00:1"),
        ("fe80::1%eth0", "fe80::1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_addresses_however_written(written: str, address: str) -> None:
    assert parse_ip(written) == ip(address)


@pytest.mark.parametrize(
    "name", ["example.org", "localhost", "1.2.3.4.5", "256.0.0.1", "0x", "1e3", "::g", "08.0.0.1"]
)
def test_names_and_junk_are_not_addresses(name: str) -> None:
    assert parse_ip(name) is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified (this network)"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "shared, carrier-grade NAT"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("192.0.2.1", "reserved (documentation)"),
        ("198.18.0.1", "reserved (benchmarking)"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped private"),
        ("::127.0.0.1", "IPv4-compatible loopback"),
        ("64:ff9b::a9fe:a9fe", "NAT64 link-local"),
        ("2002:7f00:1::", "6to4 loopback"),
        ("fc00::1", "private (unique local)"),
        ("fd12:3456::1", "private (unique local)"),
        ("fe80::1", "link-local"),
        ("fec0::1", "private (site-local)"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved (documentation)"),
        ("100::1", "reserved (discard)"),
        ("4000::1", "reserved"),
    ],
)
def test_what_is_not_public(address: str, kind: str) -> None:
    assert classify(ip(address)) == kind


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.215.14", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses(address: str) -> None:
    assert classify(ip(address)) is None


def test_refusal_says_the_address_is_private_and_how_to_allow_it() -> None:
    allow = AllowList()
    assert refusal("127.0.0.1", ip("127.0.0.1"), allow) == (
        "refused: 127.0.0.1 is a private address (loopback); "
        "set NEWSBOT_FETCH_ALLOW_HOSTS to allow it"
    )
    assert refusal("localhost", ip("::1"), allow) == (
        "refused: localhost resolves to ::1, a private address (loopback); "
        "set NEWSBOT_FETCH_ALLOW_HOSTS to allow it"
    )
    assert refusal("::ffff:127.0.0.1", ip("::ffff:127.0.0.1"), allow).startswith(
        "refused: ::ffff:127.0.0.1 is a private address (IPv4-mapped loopback)"
    )
    assert refusal("news.example", ip("8.8.8.8"), allow) is None


def test_allow_list_allows_only_what_it_lists() -> None:
    allow = AllowList.parse("127.0.0.1, intranet.corp.example., 10.20.0.0/16, [fd00::1]")

    assert allow.allows("127.0.0.1", ip("127.0.0.1"))
    assert allow.allows("localhost", ip("127.0.0.1"))  # the address is what counts
    assert allow.allows("x", ip("::ffff:127.0.0.1"))  # the same address, mapped
    assert not allow.allows("127.0.0.2", ip("127.0.0.2"))
    assert not allow.allows("localhost", ip("::1"))
    assert allow.allows("INTRANET.corp.example", ip("10.9.9.9"))  # a listed name, any address
    assert not allow.allows("other.corp.example", ip("10.9.9.9"))
    assert allow.allows("x", ip("10.20.255.1"))
    assert not allow.allows("x", ip("10.21.0.1"))
    assert allow.allows("x", ip("fd00::1"))
    assert refusal("127.0.0.2", ip("127.0.0.2"), allow).startswith("refused: 127.0.0.2 is")


def test_allow_list_entries_with_a_port_allow_only_that_port() -> None:
    allow = AllowList.parse("127.0.0.1:8081, intranet.example:8080, [fd00::1]:443, 10.0.0.0/8:80")

    assert allow.allows("127.0.0.1", ip("127.0.0.1"), 8081)
    assert allow.allows("localhost", ip("127.0.0.1"), 8081)
    assert not allow.allows("localhost", ip("127.0.0.1"), 8000)  # Chroma's port: not listed
    assert allow.allows("intranet.example", ip("10.1.1.1"), 8080)
    assert allow.allows("10.9.9.9", ip("10.9.9.9"), 80)
    assert not allow.allows("10.9.9.9", ip("10.9.9.9"), 22)
    assert allow.allows("x", ip("fd00::1"), 443)
    assert not allow.allows("x", ip("fd00::1"), 80)
    assert refusal("localhost", ip("127.0.0.1"), allow, 8000) == (
        "refused: localhost resolves to 127.0.0.1, a private address (loopback) allowed by "
        "NEWSBOT_FETCH_ALLOW_HOSTS only on other ports than 8000"
    )
    assert refusal("127.0.0.2", ip("127.0.0.2"), allow, 8081).endswith("to allow it")
    everywhere = AllowList.parse("127.0.0.1")
    assert everywhere.allows("localhost", ip("127.0.0.1"), 8000)  # no port: every port


def test_allow_list_parses_lists_and_rejects_junk() -> None:
    assert AllowList.parse(["127.0.0.1", ""]) == AllowList.parse("127.0.0.1,")
    assert AllowList.parse("") == AllowList()
    for bad in ("10.0.0.0/33", "http://x", "a b", "1.2.3.4/x", "x:0", "x:70000", "[::1", "[::1]x"):
        with pytest.raises(ValueError, match="is not"):
            AllowList.parse(bad)


# --- the backend ----


class RecordingOpener(httpcore.NetworkBackend):
    """Stands in for the socket layer: records the address it is asked to open."""

    def __init__(self):
        self.opened: list[str] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.opened.append(host)
        raise httpcore.ConnectError("fake: nothing listens")


def resolver_of(*answers: list[str]):
    """A resolver giving the next answer on each call (a DNS rebinding server)."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[tuple]:
        answer = answers[min(len(calls), len(answers) - 1)]
        calls.append(host)
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port),
            )
            for a in answer
        ]

    resolve.calls = calls
    return resolve


def test_a_public_looking_name_that_resolves_to_loopback_is_refused() -> None:
    opener = RecordingOpener()
    backend = GuardedBackend(AllowList(), resolver=resolver_of(["127.0.0.1"]), opener=opener)

    with pytest.raises(BlockedError, match=r"news\.example resolves to 127\.0\.0\.1, a private"):
        backend.connect_tcp("news.example", 80)
    assert opener.opened == []


def test_every_resolved_address_is_checked() -> None:
    opener = RecordingOpener()
    resolve = resolver_of(["93.184.215.14", "169.254.169.254"])
    backend = GuardedBackend(AllowList(), resolver=resolve, opener=opener)

    with pytest.raises(BlockedError, match=r"169\.254\.169\.254, a private address \(link-local"):
        backend.connect_tcp("news.example", 443)
    assert opener.opened == []


def test_the_checked_address_is_the_one_connected_to_dns_rebinding() -> None:
    """The resolver answers public first and loopback after: the backend resolves once and
    opens the address it checked, never asking again."""
    opener = RecordingOpener()
    resolve = resolver_of(["93.184.215.14"], ["127.0.0.1"])
    backend = GuardedBackend(AllowList(), resolver=resolve, opener=opener)

    with pytest.raises(httpcore.ConnectError):
        backend.connect_tcp("rebind.example", 80)
    assert resolve.calls == ["rebind.example"]
    assert opener.opened == ["93.184.215.14"]
    # the next connection resolves again, gets loopback, and is refused
    with pytest.raises(BlockedError, match=r"rebind\.example resolves to 127\.0\.0\.1"):
        backend.connect_tcp("rebind.example", 80)
    assert opener.opened == ["93.184.215.14"]


def test_literal_addresses_are_not_resolved() -> None:
    resolve = resolver_of(["93.184.215.14"])
    backend = GuardedBackend(AllowList(), resolver=resolve, opener=RecordingOpener())

    for host in ("127.1", "2130706433", "0x7f000001", "0.0.0.0", "::ffff:127.0.0.1", "::1"):
        with pytest.raises(BlockedError, match="is a private address"):
            backend.connect_tcp(host, 80)
    assert resolve.calls == []


def test_unresolvable_names_are_a_connect_error() -> None:
    def fail(host, port):
        raise socket.gaierror(-2, "Name or service not known")

    backend = GuardedBackend(AllowList(), resolver=fail, opener=RecordingOpener())
    with pytest.raises(httpcore.ConnectError, match=r"cannot resolve nowhere\.example"):
        backend.connect_tcp("nowhere.example", 80)


# --- the client, end to end but without a socket ----


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0.0.0.0:8000/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "https://192.168.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[::]/",
        "http://0/",
        "http://017700000001/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://100.100.100.200/",
        "http://[fd00:ec2::254]/",
    ],
)
def test_the_client_refuses_private_urls_before_connecting(url: str) -> None:
    with guarded_client(timeout=1) as client, pytest.raises(BlockedError, match="private addr"):
        client.get(url)


def test_a_malformed_address_is_an_invalid_url_and_never_fetched() -> None:
    with guarded_client() as client, pytest.raises(httpx.InvalidURL, match="Invalid IPv4"):
        client.get("http://127.000.000.001/")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/a",
        "file:///etc/passwd",
        "gopher://x/",
        "javascript:alert(1)",
        "data:text/html,<h1>x</h1>",
        "dict://127.0.0.1:11211/",
    ],
)
def test_only_http_and_https(url: str) -> None:
    with guarded_client() as client, pytest.raises(BlockedError, match="only http and https"):
        client.get(url)


def test_a_redirect_to_a_private_address_is_refused(monkeypatch) -> None:
    """A redirect's hop goes through the guarded transport like the first request. The first
    hop is answered without a network (a public page redirecting to loopback)."""
    original = httpx.HTTPTransport.handle_request
    hops: list[str] = []

    def first_hop_answered(self, request):
        hops.append(str(request.url))
        if len(hops) == 1:
            return httpx.Response(302, headers={"Location": "http://127.0.0.1:8000/"})
        return original(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", first_hop_answered)
    with (
        guarded_client(resolver=resolver_of(["93.184.215.14"])) as client,
        pytest.raises(BlockedError, match=r"127\.0\.0\.1 is a private address"),
    ):
        client.get("http://news.example/story")
    assert hops == ["http://news.example/story", "http://127.0.0.1:8000/"]


def test_deadline_clamps_timeouts_and_expires() -> None:
    assert _clamp(5.0, what="x") == 5.0  # no deadline set
    with fetch_deadline(0.5):
        assert _clamp(5.0, what="x") <= 0.5
        with fetch_deadline(10):  # an inner deadline never extends the outer one
            assert _clamp(None, what="x") <= 0.5
    with fetch_deadline(0.01):
        time.sleep(0.02)
        with pytest.raises(DeadlineExceeded):
            _clamp(5.0, what="reading")


def test_the_runtime_builds_the_guarded_client_from_settings(monkeypatch) -> None:
    from bot.runtime import http_client
    from bot.settings import Settings

    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_HOSTS", "127.0.0.1, 10.20.0.0/16")
    settings = Settings(_env_file=None)
    assert settings.fetch_allow_hosts == ["127.0.0.1", "10.20.0.0/16"]
    with http_client(settings) as client:
        backend = client._transport.backend
        assert backend.allow == AllowList.parse("127.0.0.1,10.20.0.0/16")
        with pytest.raises(BlockedError, match=r"127\.0\.0\.2 is a private address"):
            client.get("http://127.0.0.2/")
    monkeypatch.delenv("NEWSBOT_FETCH_ALLOW_HOSTS")
    with http_client(Settings(_env_file=None)) as client:
        assert client._transport.backend.allow == AllowList()
