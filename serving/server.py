"""Running the app under uvicorn: httptools parsing, uvloop, TCP_NODELAY on every connection.

With several workers, uvicorn's accepted sockets keep Nagle's algorithm on, and each answer then
waits about 40 ms for the client's delayed ACK. Turning it off per connection removes the stall.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
