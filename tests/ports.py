"""A port on 127.0.0.1 that nothing listens on right now: for a server a test starts (and must
name before it binds), or for an address that refuses connections."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
