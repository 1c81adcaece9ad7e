"""Running the app: httptools parsing, uvloop, TCP_NODELAY, and workers that share the load.

With several workers, uvicorn's accepted sockets keep Nagle's algorithm on, and each answer then
waits about 40 ms for the client's delayed ACK; turning it off per connection removes the stall.
uvicorn's workers also share one listening socket, and whichever wakes first accepts every
pending connection: a CRM that opens 8 keep-alive connections at once can land them all on one
worker while the others idle. Here each worker listens on its own SO_REUSEPORT socket, so the
kernel spreads connections across workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("leadscore.serving")
APP = "serving.app:create_app"


class HardenedHttpToolsProtocol(HttpToolsProtocol):
    """TCP_NODELAY on every connection, and a deadline for reading each request: a client that
    opens a connection and never finishes its headers or body is answered 408 and closed,
    instead of holding the connection (and its buffers) forever."""

    read_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            from serving.errors import error_body  # the web stack is only needed here

            body = json.dumps(error_body("request_timeout", REQUEST_TIMEOUT_MESSAGE)).encode()
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                b"connection: close\r\ncontent-length: " + str(len(body)).encode()
                + b"\r\n\r\n" + body
            )  # fmt: skip
        self.transport.close()


REQUEST_TIMEOUT_MESSAGE = "expected the request's headers and body sooner; send them at once"


def _config(read_timeout: float, **options: Any) -> uvicorn.Config:
    protocol = type("Protocol", (HardenedHttpToolsProtocol,), {"read_timeout": read_timeout})
    return uvicorn.Config(
        APP, factory=True, http=protocol, loop="uvloop", log_level="warning", access_log=False,
        **options,
    )  # fmt: skip


def check_port(host: str, port: int) -> None:
    """Raise OSError now if the address is taken, before anything slow is loaded."""
    with _bound(host, port, share=False):
        pass


def run(
    host: str,
    port: int,
    workers: int,
    setup: Callable[[], None] | None = None,
    *,
    read_timeout: float = 10.0,
) -> None:
    """Serve until SIGINT or SIGTERM; with several workers, each has its own listening socket.

    The socket is bound and listening before the app (and its model) loads, so a taken port
    fails at once and /healthz answers as soon as the app is imported. `setup` (logging, say)
    runs in every worker process before it serves.
    """
    if workers == 1:
        sock = _bound(host, port, share=False)
        sock.listen(2048)
        uvicorn.Server(_config(read_timeout)).run(sockets=[sock])
        return
    # A plain bind fails while anything listens on the port, our own older server included,
    # which workers sharing it through SO_REUSEPORT would otherwise join silently.
    check_port(host, port)
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_worker, args=(host, port, setup, read_timeout))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes requests, drains the log

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and all(process.is_alive() for process in processes):
            time.sleep(0.2)
        if not stopping:  # a worker died: stop them all and let the supervisor restart us
            logger.error("a worker exited; stopping the server", extra={"workers": workers})
            stop(signal.SIGTERM, None)
        for process in processes:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = next((p.exitcode for p in processes if p.exitcode), 0)
    if failed and not stopping:
        raise SystemExit(failed)


def _bound(host: str, port: int, *, share: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _worker(host: str, port: int, setup: Callable[[], None] | None, read_timeout: float) -> None:
    sock = _bound(host, port, share=True)
    sock.listen(2048)
    if setup is not None:
        setup()
    uvicorn.Server(_config(read_timeout)).run(sockets=[sock])
