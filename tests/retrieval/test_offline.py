"""The fast tier is offline: outside `integration` tests, IP sockets cannot connect or bind."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from tests.conftest import NetworkBlockedError


def test_connecting_even_to_loopback_fails_loudly(no_network):
    with pytest.raises(NetworkBlockedError, match="integration"):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)
    with socket.socket(socket.AF_INET6) as sock, pytest.raises(NetworkBlockedError):
        sock.connect_ex(("::1", 9))
    assert len(no_network) == 2
    no_network.clear()  # seen: the test itself need not fail at teardown


def test_an_http_client_cannot_mistake_it_for_an_unreachable_server(no_network):
    # httpx turns OSError into ConnectError, which retrying code may swallow; not this.
    with httpx.Client() as client, pytest.raises(NetworkBlockedError):
        client.get("http://127.0.0.1:9/")
    no_network.clear()


async def test_asyncio_connections_are_blocked_too(no_network):
    with pytest.raises(NetworkBlockedError):
        await asyncio.open_connection("127.0.0.1", 9)
    no_network.clear()


def test_servers_cannot_listen(no_network):
    with socket.socket() as server, pytest.raises(NetworkBlockedError):
        server.bind(("127.0.0.1", 0))
    no_network.clear()


def test_local_socket_pairs_still_work():
    # Event loops wake themselves through a socket pair: that is not the network.
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"


@pytest.mark.integration
def test_integration_tests_keep_the_network(no_network):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
    assert no_network == []


def test_name_lookups_are_blocked(no_network):
    with pytest.raises(NetworkBlockedError, match="resolve"):
        socket.getaddrinfo("example.com", 443)
    no_network.clear()
