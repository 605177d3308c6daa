"""Running the app in uvicorn, with one or more worker processes.

With more than one worker uvicorn binds the listening socket itself and hands it to the
workers; it creates that socket with protocol number 0, the accepted connections inherit it, and
asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on sockets that say ``IPPROTO_TCP``.
Each response is written as headers then body, so on a keep-alive connection the body waited
for the browser's delayed ACK: about 40 ms added to every page after the first (uvicorn issue
3149). We rebuild the bound socket from its descriptor, which makes the kernel report the real
protocol, so that every connection gets ``TCP_NODELAY`` as with one worker.

uvicorn's workers also share that one socket, and whichever worker wakes first accepts every
connection waiting: with 64 keep-alive connections opened at once we saw splits of 64/0, 63/1
and 49/15, so one core served nearly everything while the other idled. On Linux each worker
instead listens on a socket of its own with ``SO_REUSEPORT``, and the kernel spreads new
connections over them (ADR 16).
"""

from __future__ import annotations

import gc
import logging
import socket
import sys
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

APP = "txng.web.serving:served_app"
STARTUP_FAILURE = 3  # uvicorn's exit code when the port is taken, the app did not load, …
SPREAD_BY_KERNEL = sys.platform == "linux"  # elsewhere SO_REUSEPORT does not balance
logger = logging.getLogger("uvicorn.error")


def served_app() -> FastAPI:
    """The app as each worker serves it: built, warmed, then its heap frozen.

    The administrative units, message catalogs and template environments are loaded before
    the first request. ``gc.freeze`` then moves everything alive to a generation that the cyclic
    garbage collector no longer scans. Without that, each full collection walked the whole
    heap, mostly those tables: 150 to 200 ms with the worker stopped, several times a
    minute under load (measured with ``gc.callbacks``)."""
    from txng.app import create_app
    from txng.kit import i18n
    from txng.kit.adminunits import admin_units
    from txng.resolver.pages import commune_options
    from txng.web.templating import environment

    app = create_app()
    admin_units()
    commune_options(app.state.settings.province_code)
    for locale in i18n.LOCALES:
        i18n.translations(locale)
        environment(locale)
    gc.collect()
    gc.freeze()
    return app


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration, binding TCP sockets that asyncio recognises as TCP."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto:
            return sock
        tcp = socket.socket(fileno=sock.detach())  # family, type and protocol read from the fd
        tcp.set_inheritable(True)
        return tcp


def _reuseport_socket(family: int, address: tuple[Any, ...]) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


class WorkerListener:
    """Stands in the supervisor for the socket that each worker listens on.

    uvicorn pickles the sockets it hands to a worker it starts. Unpickled in the worker, this
    becomes a new socket bound with ``SO_REUSEPORT`` to the supervisor's address: each worker
    has its own accept queue and the kernel spreads connections over them by address hash.
    The supervisor keeps a bound socket with the same options, which holds the port but never
    listens, so it gets no connections."""

    def __init__(self, reserved: socket.socket) -> None:
        self.family = reserved.family
        self.address = reserved.getsockname()

    def __reduce__(self) -> tuple[Any, tuple[int, tuple[Any, ...]]]:
        return _reuseport_socket, (self.family, self.address)


def reserve_port(config: uvicorn.Config) -> socket.socket:
    """Bind (not listen) the address of ``config`` for workers to share with ``SO_REUSEPORT``.

    A server already listening there makes this exit, as uvicorn does: another ``txng serve``
    would otherwise join its group silently and take half of its connections."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:  # fails if someone listens
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((config.host, config.port))
            address = probe.getsockname()  # the port picked, when asked for port 0
        sock = _reuseport_socket(family, address)
    except OSError as exc:
        logger.error(exc)
        sys.exit(STARTUP_FAILURE)
    host, port = address[:2]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    logger.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown, port)
    return sock


def serve(
    *, host: str, port: int, workers: int = 1, log_level: str = "info", **options: Any
) -> None:
    """Serve :func:`served_app` until interrupted (as ``uvicorn.run``, with :class:`TcpConfig`)."""
    config = TcpConfig(
        APP, factory=True, host=host, port=port, workers=workers, log_level=log_level, **options
    )
    try:
        if workers > 1 and SPREAD_BY_KERNEL:
            with reserve_port(config) as reserved:
                listener: Any = WorkerListener(reserved)  # a socket once in the worker
                Multiprocess(config, sockets=[listener]).run()
            return
        if workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
            return
        server = uvicorn.Server(config)
        server.run()
    except KeyboardInterrupt:
        return
    if not server.started:
        sys.exit(STARTUP_FAILURE)
