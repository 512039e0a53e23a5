"""No server-side request forgery: the HTTP client that fetches sources strangers control.

Article URLs, feeds, feed entries and redirects point wherever their authors like. Every
connection the fetch client opens goes through `GuardedBackend`, which resolves the host once,
checks every address it resolves to, and connects to a checked address itself, so a name that
answers differently the second time (DNS rebinding) gains nothing. TLS still verifies, and sends
SNI for, the host name of the URL (httpcore passes the origin's host to `start_tls`).

Refused, unless the operator's allow list (`NEWSBOT_FETCH_ALLOW_HOSTS`) names the host or
covers the address (on any port, or only the port an entry names): loopback, private, shared
(carrier-grade NAT), link-local (cloud metadata services live there), multicast, reserved,
documentation and unspecified addresses, however they are written (`localhost`, `127.1`,
`2130706433`, `0x7f000001`, `0.0.0.0`, `[::1]`, `[::ffff:127.0.0.1]`, a public-looking name
that resolves to one), and every scheme but http and https. Proxies from the environment are
not used: the guard must see the real destination.

Pure parts (no I/O, unit-tested): `parse_ip`, `classify`, `AllowList`, `refusal`.
Parts that connect: `GuardedBackend`, `GuardedTransport`, `guarded_client`.
`fetch_deadline` bounds a whole fetch (every connect, read and write of it, redirects included),
so a server that drips one byte per read timeout cannot hold a fetch for ever.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[tuple]]

ALLOW_SETTING = "NEWSBOT_FETCH_ALLOW_HOSTS"
SCHEMES = ("http", "https")
LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=8)


class BlockedError(httpx.TransportError):
    """A fetch the guard refused; the message is the reason, fit for a report.

    An `httpx.TransportError`, so code that handles failed requests handles this one too; httpx
    passes it through unchanged (it maps only httpcore's own exceptions).
    """


# --- what an address is (pure) ----

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# (network, kind): IANA's special-purpose registries, most specific first. Anything listed is
# not fetched; IPv6 outside 2000::/3 (global unicast) is reserved as well.
_IPV4_SPECIAL: tuple[tuple[IPNetwork, str], ...] = (
    (_V4("0.0.0.0/32"), "unspecified"),
    (_V4("0.0.0.0/8"), "unspecified (this network)"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared, carrier-grade NAT"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved (IETF protocol assignments)"),
    (_V4("192.0.2.0/24"), "reserved (documentation)"),
    (_V4("192.88.99.0/24"), "reserved (6to4 relay)"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "reserved (benchmarking)"),
    (_V4("198.51.100.0/24"), "reserved (documentation)"),
    (_V4("203.0.113.0/24"), "reserved (documentation)"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
)
_IPV6_SPECIAL: tuple[tuple[IPNetwork, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("64:ff9b:1::/48"), "private (local NAT64)"),
    (_V6("100::/64"), "reserved (discard)"),
    (_V6("2001:db8::/32"), "reserved (documentation)"),
    (_V6("2001::/23"), "reserved (IETF protocol assignments)"),
    (_V6("3fff::/20"), "reserved (documentation)"),
    (_V6("5f00::/16"), "reserved (segment routing)"),
    (_V6("fc00::/7"), "private (unique local)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "private (site-local)"),
    (_V6("ff00::/8"), "multicast"),
)
_GLOBAL_UNICAST = _V6("2000::/3")
# IPv6 forms that carry an IPv4 address, and what they are called in a reason
_EMBEDDING = (
    (_V6("::ffff:0:0/96"), "IPv4-mapped", lambda ip: ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)),
    (_V6("::/96"), "IPv4-compatible", lambda ip: ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)),
    (_V6("64:ff9b::/96"), "NAT64", lambda ip: ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)),
    (_V6("2002::/16"), "6to4", lambda ip: ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)),
)


def classify(ip: IPAddress) -> str | None:
    """Why `ip` must not be fetched ("loopback", "private", "link-local", ...), or None when
    it is a public address. IPv6 forms that embed an IPv4 address are judged by that address."""
    if ip.version == 4:
        for network, kind in _IPV4_SPECIAL:
            if ip in network:
                return kind
        return None
    if ip in _V6("::/128"):
        return "unspecified"
    if ip in _V6("::1/128"):
        return "loopback"
    for network, name, embedded in _EMBEDDING:
        if ip in network:
            inner = classify(embedded(ip))
            return f"{name} {inner}" if inner else None
    for network, kind in _IPV6_SPECIAL:
        if ip in network:
            return kind
    if ip not in _GLOBAL_UNICAST:
        return "reserved"
    return None


_LOOSE_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def parse_ipv4_loose(text: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in any form `inet_aton` (and so the resolver) reads: `127.1`,
    `2130706433`, `0x7f000001`, `0177.0.0.1`; None when `text` is not one."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_LOOSE_PART.fullmatch(p) for p in parts):
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:], 16))
        elif len(part) > 1 and part.startswith("0"):
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = number * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(number)


def parse_ip(host: str) -> IPAddress | None:
    """The IP address `host` spells (with or without IPv6 brackets or a zone), or None for a
    name."""
    text = host.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return parse_ipv4_loose(text)


@dataclass(frozen=True)
class AllowList:
    """What an operator allows although it is private: host names, and IPs or CIDRs, each on
    every port or on one (`intranet.example:8080`, `127.0.0.1:8081`, `[fd00::1]:443`,
    `10.20.0.0/16:443`). Allowing a host on every port allows every service on it (a Chroma
    server beside the bot included): name the port when only one is meant."""

    names: frozenset[tuple[str, int | None]] = frozenset()  # (name, port or None: any)
    networks: tuple[tuple[IPNetwork, int | None], ...] = ()

    @classmethod
    def parse(cls, entries: str | Iterable[str]) -> AllowList:
        """From `NEWSBOT_FETCH_ALLOW_HOSTS` entries (a comma-separated string or a list);
        raises ValueError naming an entry that is neither a host name nor an IP or CIDR, with
        or without a port."""
        if isinstance(entries, str):
            entries = entries.split(",")
        names: set[tuple[str, int | None]] = set()
        networks: list[tuple[IPNetwork, int | None]] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            bare, port = _split_port(entry, raw.strip())
            if "/" in bare or parse_ip(bare) is not None:
                try:
                    address, _, prefix = bare.partition("/")
                    ip = parse_ip(address)
                    if ip is None:
                        raise ValueError
                    network = ipaddress.ip_network(f"{ip}/{prefix}" if prefix else ip, strict=False)
                except ValueError:
                    raise ValueError(f"{raw.strip()!r} is not an IP address or CIDR") from None
                networks.append((network, port))
            elif re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?", bare):
                names.add((bare.rstrip("."), port))
            else:
                raise ValueError(f"{raw.strip()!r} is not a host name, IP address or CIDR")
        return cls(frozenset(names), tuple(networks))

    def allows(self, host: str, ip: IPAddress, port: int | None = None) -> bool:
        """Whether a connection to `ip` (on `port`; None: a check regardless of port), for the
        URL host `host`, is allowed by a listed entry."""

        def port_fits(listed: int | None) -> bool:
            return listed is None or port is None or listed == port

        name = host.lower().rstrip(".").strip("[]")
        if any(n == name and port_fits(p) for n, p in self.names):
            return True
        candidates = [ip]
        if ip.version == 6 and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(
            c.version == net.version and c in net and port_fits(p)
            for c in candidates
            for net, p in self.networks
        )


def _split_port(entry: str, raw: str) -> tuple[str, int | None]:
    """An allow-list entry without its port, and the port (None when it names none)."""
    if entry.startswith("["):
        close = entry.find("]")
        if close < 0:
            raise ValueError(f"{raw!r} is not an IP address or CIDR")
        bare, rest = entry[1:close], entry[close + 1 :]
        if not rest:
            return bare, None
        if not rest.startswith(":"):
            raise ValueError(f"{raw!r} is not an IP address or CIDR")
        return bare, _port(rest[1:], raw)
    if entry.count(":") == 1:
        bare, _, port = entry.partition(":")
        return bare, _port(port, raw)
    return entry, None


def _port(text: str, raw: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{raw!r} is not a host with a valid port (1-65535)")
    return int(text)


def refusal(host: str, ip: IPAddress, allow: AllowList, port: int | None = None) -> str | None:
    """The reason a connection to `ip` (on `port`) for `host` is refused, or None when it may
    go ahead."""
    kind = classify(ip)
    if kind is None or allow.allows(host, ip, port):
        return None
    shown = f"::ffff:{ip.ipv4_mapped}" if ip.version == 6 and ip.ipv4_mapped else str(ip)
    subject = f"{shown} is" if parse_ip(host) is not None else f"{host} resolves to {shown},"
    if port is not None and allow.allows(host, ip):  # allowed, but on other ports
        return (
            f"refused: {subject} a private address ({kind}) allowed by {ALLOW_SETTING} only "
            f"on other ports than {port}"
        )
    return f"refused: {subject} a private address ({kind}); set {ALLOW_SETTING} to allow it"


def check_url(url: httpx.URL | str) -> None:
    """Raise `BlockedError` for a URL that is not http(s). (Its host is checked where the
    connection is opened, by `GuardedBackend`, literal addresses included.)"""
    url = httpx.URL(url) if isinstance(url, str) else url
    if url.scheme not in SCHEMES:
        raise BlockedError(f"refused: only http and https URLs are fetched (got {url.scheme}:)")


# --- a deadline for a whole fetch ----

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "newsbot_fetch_deadline", default=None
)


class DeadlineExceeded(httpcore.ReadTimeout):
    """The whole fetch took longer than its deadline (httpx reports it as a ReadTimeout)."""


@contextlib.contextmanager
def fetch_deadline(seconds: float | None) -> Iterator[float | None]:
    """Within this block every connect, read and write of the guarded client ends by
    `seconds` from now (or an earlier outer deadline). Yields the absolute monotonic deadline."""
    outer = _DEADLINE.get()
    at = None if seconds is None else time.monotonic() + seconds
    if outer is not None:
        at = outer if at is None else min(at, outer)
    token = _DEADLINE.set(at)
    try:
        yield at
    finally:
        _DEADLINE.reset(token)


def _clamp(timeout: float | None, *, what: str) -> float | None:
    at = _DEADLINE.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded(f"deadline passed ({what})")
    return left if timeout is None else min(timeout, left)


@contextlib.contextmanager
def _deadline_timeout(clamped: bool, *, what: str) -> Iterator[None]:
    """A timeout cut short by the deadline is the deadline's."""
    try:
        yield
    except (httpcore.ReadTimeout, httpcore.WriteTimeout, httpcore.ConnectTimeout) as error:
        if clamped and not isinstance(error, DeadlineExceeded):
            raise DeadlineExceeded(f"deadline passed ({what})") from None
        raise


# --- connecting ----


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write is held to the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        clamped = _clamp(timeout, what="reading")
        with _deadline_timeout(clamped != timeout, what="reading"):
            return self._inner.read(max_bytes, clamped)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        clamped = _clamp(timeout, what="writing")
        with _deadline_timeout(clamped != timeout, what="writing"):
            self._inner.write(buffer, clamped)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        timeout = _clamp(timeout, what="TLS handshake")
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


def _system_resolver(host: str, port: int) -> list[tuple]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that resolves once, checks every address, and connects to
    a checked address (never resolving again).

    `resolver(host, port)` returns `getaddrinfo`-style tuples (default: the system's);
    `opener` opens a TCP stream to an IP literal (default: httpcore's `SyncBackend`).
    """

    def __init__(
        self,
        allow: AllowList,
        *,
        resolver: Resolver | None = None,
        opener: httpcore.NetworkBackend | None = None,
    ):
        self.allow = allow
        self._resolver = resolver
        self._opener = opener or httpcore.SyncBackend()

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` stands for, checked; raises `BlockedError` if any is refused."""
        literal = parse_ip(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = (self._resolver or _system_resolver)(host, port)
            except (OSError, UnicodeError) as error:
                raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
            addresses = []
            for info in infos:
                ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
                if ip not in addresses:
                    addresses.append(ip)
            if not addresses:
                raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
        for ip in addresses:
            reason = refusal(host, ip, self.allow, port)
            if reason:
                raise BlockedError(reason)
        return addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options=None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, what="connecting")
        last: Exception | None = None
        for ip in self.resolve(host, port):
            clamped = _clamp(timeout, what="connecting")
            try:
                with _deadline_timeout(clamped != timeout, what="connecting"):
                    stream = self._opener.connect_tcp(
                        str(ip),
                        port,
                        timeout=clamped,
                        local_address=local_address,
                        socket_options=socket_options,
                    )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
                continue
            return _DeadlineStream(stream)
        assert last is not None
        raise last

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise BlockedError("refused: Unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the connection pool on a `GuardedBackend`; http and https only.

    Every request (a redirect's too: httpx sends each hop through the transport) is checked
    here, and each new connection is checked where it is opened.
    """

    def __init__(
        self,
        allow: AllowList,
        *,
        resolver: Resolver | None = None,
        opener: httpcore.NetworkBackend | None = None,
        verify: bool = True,
        limits: httpx.Limits = LIMITS,
    ):
        super().__init__(verify=verify, trust_env=True, limits=limits)
        self.backend = GuardedBackend(allow, resolver=resolver, opener=opener)
        # httpx's HTTPTransport takes no network backend: its pool is replaced by an equal one
        # on the guarded backend (the pool is what httpx's own handle_request talks to).
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=True),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=self.backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_url(request.url)
        return super().handle_request(request)


def guarded_client(
    *,
    allow: AllowList | str | Sequence[str] = (),
    timeout: float | httpx.Timeout = 15.0,
    max_redirects: int = 5,
    headers: Mapping[str, str] | None = None,
    resolver: Resolver | None = None,
) -> httpx.Client:
    """The client for fetching sources: redirects followed, every connection guarded.

    `allow` is the operator's allow list (`AllowList` or its entries); raises ValueError for an
    entry that is neither a host name, an IP address nor a CIDR.
    """
    if not isinstance(allow, AllowList):
        allow = AllowList.parse(allow)
    return httpx.Client(
        transport=GuardedTransport(allow, resolver=resolver),
        timeout=timeout,
        follow_redirects=True,
        max_redirects=max_redirects,
        headers=dict(headers or {}),
        trust_env=False,
    )
