"""Running the app in uvicorn, with one or more worker processes.

With more than one worker uvicorn binds the listening socket itself and hands it to the
workers; it creates that socket with protocol number 0, the accepted connections inherit it, and
asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on sockets that say ``IPPROTO_TCP``.
Each response is written as headers then body, so on a keep-alive connection the body waited
for the browser's delayed ACK: about 40 ms added to every page after the first (uvicorn issue
3149). We rebuild the bound socket from its descriptor, which makes the kernel report the real
protocol, so that every connection gets ``TCP_NODELAY`` as with one worker.
"""

from __future__ import annotations

import gc
import socket
import sys
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

APP = "txng.web.serving:served_app"


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


def serve(
    *, host: str, port: int, workers: int = 1, log_level: str = "info", **options: Any
) -> None:
    """Serve :func:`served_app` until interrupted (as ``uvicorn.run``, with :class:`TcpConfig`)."""
    config = TcpConfig(
        APP, factory=True, host=host, port=port, workers=workers, log_level=log_level, **options
    )
    try:
        if workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
            return
        server = uvicorn.Server(config)
        server.run()
    except KeyboardInterrupt:
        return
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE: the port is taken, the app did not load, …
