"""`free_port` never hands out the same port twice in one process.

Each call asks the kernel for a free port and releases it at once, so the kernel may give
the same port to the next call: a benchmark's private stack once got one port for intake
and escalation, intake failed to bind, and its health check was answered by escalation."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tidemark_devstack.common import free_port


class _KernelRepeating:
    """A stand-in socket whose kernel gives out the ports of `ports`, in order."""

    def __init__(self, ports: Iterator[int]) -> None:
        self._ports = ports
        self._port = 0

    def __enter__(self) -> _KernelRepeating:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def bind(self, address: tuple[str, int]) -> None:
        self._port = next(self._ports)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self._port)


def test_a_port_the_kernel_gives_again_is_not_handed_out_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = iter([41001, 41001, 41001, 41002])
    monkeypatch.setattr(socket, "socket", lambda *a: _KernelRepeating(ports))
    assert [free_port(), free_port()] == [41001, 41002]


def test_a_thousand_calls_give_a_thousand_ports_that_nobody_listens_on() -> None:
    ports = [free_port() for _ in range(1000)]
    assert len(set(ports)) == 1000
    with socket.socket() as sock:  # each is still free: binding one works
        sock.bind(("127.0.0.1", ports[-1]))
