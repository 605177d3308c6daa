"""`txng serve` with several workers: connections get TCP_NODELAY as with one worker, and the
workers share the connections.

Without it, each keep-alive response's body waits for the client's delayed ACK (about 40 ms per
page after the first; uvicorn issue 3149)."""

from __future__ import annotations

import asyncio
import os
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import uvicorn

from conftest import run_async
from txng.web.serving import APP, SPREAD_BY_KERNEL, TcpConfig, WorkerListener, reserve_port


async def _nodelay_of_accepted_connection(*listening: socket.socket) -> int:
    """What asyncio (and so uvicorn's worker) sets on a connection accepted on ``listening``
    (one socket, or several sharing a port: whichever the kernel picks)."""
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    servers = [await asyncio.start_server(on_connect, sock=sock) for sock in listening]
    host, port = listening[0].getsockname()[:2]
    _, writer = await asyncio.open_connection(host, port)
    try:
        return await asyncio.wait_for(accepted, timeout=10)
    finally:
        writer.close()
        for server in servers:
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


def test_each_worker_listens_on_its_own_socket_on_the_shared_port() -> None:
    """What the supervisor hands a worker becomes, in the worker, its own listening socket."""
    with reserve_port(TcpConfig(APP, host="127.0.0.1", port=0, workers=2)) as reserved:
        handed = pickle.dumps(WorkerListener(reserved))  # as uvicorn starts a worker
        first, second = (pickle.loads(handed) for _ in range(2))  # noqa: S301 (our own bytes)
        with first, second:
            assert first.getsockname() == second.getsockname() == reserved.getsockname()
            assert first.proto == second.proto == socket.IPPROTO_TCP
            assert first.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
            # both listen at once (the kernel spreads connections over them)
            assert run_async(lambda: _nodelay_of_accepted_connection(first, second)) != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sockets(port: int, state: str) -> set[str]:
    """The inodes of IPv4 TCP sockets on local ``port`` in ``state`` (01 established, 0A listen)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(f"socket:[{fields[9]}]")
    return found


def _socket_owners(port: int) -> dict[int, int]:
    """pid → how many established connections to ``port`` that process holds (Linux /proc)."""
    inodes = _sockets(port, "01")
    owners: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            held = sum(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir())
        except OSError:  # another user's process, or one that just ended
            continue
        if held:
            owners[int(proc.name)] = held
    return owners


async def _open_keepalive_connections(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        assert head.startswith(b"HTTP/1.1 200"), head
        writers.append(writer)
    return writers


@pytest.mark.skipif(not SPREAD_BY_KERNEL, reason="SO_REUSEPORT balances only on Linux")
def test_two_workers_share_the_connections(tmp_path) -> None:
    """uvicorn's shared socket let one worker accept every waiting connection (splits of 64/0
    were common): one core served the load while the other idled."""
    port = _free_port()
    env = {
        **os.environ,
        "TXNG_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TXNG_DATA_DIR": str(tmp_path),
    }
    cmd = [sys.executable, "-m", "txng.cli.main", "serve", "--port", str(port), "--workers", "2"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while len(_sockets(port, "0A")) < 2 or not _answers(port):  # both workers listen
            assert server.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

        async def hold() -> dict[int, int]:
            writers = await _open_keepalive_connections(port, 40)
            try:
                return await asyncio.to_thread(_socket_owners, port)
            finally:
                for writer in writers:
                    writer.close()

        owners = run_async(hold)
        workers = _worker_pids(server.pid)
        assert set(owners) == set(workers)  # each worker holds some; the supervisor none
        assert sum(owners.values()) == 40
    finally:
        server.terminate()
        server.wait(timeout=30)


def _worker_pids(pid: int) -> list[int]:
    """uvicorn's worker processes under the supervisor ``pid`` (not multiprocessing's tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def test_a_second_server_on_a_port_in_use_fails_to_start() -> None:
    """SO_REUSEPORT must not let a second `txng serve` join a running one's port silently."""
    with socket.socket() as running:
        running.bind(("127.0.0.1", 0))
        running.listen()
        port = running.getsockname()[1]
        with pytest.raises(SystemExit) as exited:
            reserve_port(TcpConfig(APP, host="127.0.0.1", port=port, workers=2))
        assert exited.value.code == 3
