"""`txng serve` with several workers: connections get TCP_NODELAY as with one worker.

Without it, each keep-alive response's body waits for the client's delayed ACK (about 40 ms per
page after the first; uvicorn issue 3149)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import uvicorn

from conftest import run_async
from txng.web.serving import TcpConfig


async def _nodelay_of_accepted_connection(listening: socket.socket) -> int:
    """What asyncio (and so uvicorn's worker) sets on a connection accepted on ``listening``."""
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=listening)
    host, port = listening.getsockname()[:2]
    _, writer = await asyncio.open_connection(host, port)
    try:
        return await asyncio.wait_for(accepted, timeout=10)
    finally:
        writer.close()
        server.close()


def _bound(config_class: type[uvicorn.Config]) -> socket.socket:
    config = config_class("txng.app:create_app", factory=True, host="127.0.0.1", port=0, workers=2)
    return config.bind_socket()


def test_the_shared_socket_is_tcp_and_its_connections_send_without_delay() -> None:
    with _bound(TcpConfig) as sock:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable()  # handed to the worker processes
        assert run_async(lambda: _nodelay_of_accepted_connection(sock)) != 0


def test_uvicorns_own_socket_shows_what_is_fixed() -> None:
    """If uvicorn fixes its socket, this fails and TcpConfig can go."""
    with _bound(uvicorn.Config) as sock:
        assert sock.proto == 0
        assert run_async(lambda: _nodelay_of_accepted_connection(sock)) == 0


def test_each_worker_starts_warm_with_its_heap_out_of_the_collectors_way(tmp_path) -> None:
    """Full garbage collections used to walk every table loaded at startup (150–200 ms each)."""
    script = (
        "import gc\n"
        "from txng.kit.adminunits import admin_units\n"
        "from txng.web.serving import served_app\n"
        "app = served_app()\n"
        "print(admin_units.cache_info().currsize, gc.get_freeze_count() > 100_000, app.title)\n"
    )
    env = {
        **os.environ,
        "TXNG_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TXNG_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[:2] == ["1", "True"]
    assert "TXNG" in out.stdout
