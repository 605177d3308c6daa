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

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "txng.app:create_app"


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
    """Serve the app until interrupted (uvicorn's own ``run``, with :class:`TcpConfig`)."""
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
