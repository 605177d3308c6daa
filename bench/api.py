"""Benchmark 2: sequential API reads of a product page vs. the bare /healthz, over loopback."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from bench.world import seed_api_world

REPO_ROOT = Path(__file__).resolve().parents[1]
PRODUCTS_PATH = "/api/v1/products?per_page=50"
HEALTH_PATH = "/healthz"
START_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Latency:
    per_s: float
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class ApiResult:
    database: str
    requests: int
    warmup: int
    repeats: int
    products: int
    healthz: Latency
    listing: Latency

    @property
    def ratio(self) -> float:
        return self.listing.per_s / self.healthz.per_s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(proc: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the benchmark server exited with {proc.returncode}")
        try:
            if httpx.get(base_url + HEALTH_PATH, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the benchmark server did not answer within {START_TIMEOUT_S:.0f} s")


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


@contextmanager
def server_process(url: str, data_dir: Path) -> Iterator[Server]:
    """The app in a uvicorn subprocess (1 worker) on loopback: its base URL and process id."""
    port = _free_port()
    cmd = [sys.executable, "-m", "bench.server", url, str(data_dir), str(port)]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT)  # noqa: S603
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_up(proc, base_url)
        yield Server(base_url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def served(url: str, data_dir: Path) -> Iterator[str]:
    """The app in a uvicorn subprocess (1 worker) on loopback; yields its base URL."""
    with server_process(url, data_dir) as server:
        yield server.base_url


def _timed(client: httpx.Client, path: str, count: int) -> Latency:
    """`count` sequential GETs on one keep-alive connection."""
    latencies: list[float] = []
    start = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        response = client.get(path)
        latencies.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
    elapsed = time.perf_counter() - start
    p95 = statistics.quantiles(latencies, n=20)[-1]
    return Latency(count / elapsed, statistics.median(latencies) * 1000, p95 * 1000)


def _median(samples: list[Latency]) -> Latency:
    return Latency(
        statistics.median(s.per_s for s in samples),
        statistics.median(s.p50_ms for s in samples),
        statistics.median(s.p95_ms for s in samples),
    )


def _check_listing(client: httpx.Client, products: int) -> None:
    body = client.get(PRODUCTS_PATH).json()
    if body.get("total") != products or len(body.get("items", [])) != min(50, products):
        raise RuntimeError(f"unexpected product page: total={body.get('total')}")


def _measure(
    base_url: str, key: str, *, products: int, requests: int, warmup: int, repeats: int
) -> tuple[Latency, Latency]:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        _check_listing(client, products)
        _timed(client, HEALTH_PATH, warmup)
        _timed(client, PRODUCTS_PATH, warmup)
        health: list[Latency] = []
        listing: list[Latency] = []
        for _ in range(repeats):
            health.append(_timed(client, HEALTH_PATH, requests))
            listing.append(_timed(client, PRODUCTS_PATH, requests))
    return _median(health), _median(listing)


def run_api(
    database: str,
    url: str,
    data_dir: Path,
    *,
    products: int,
    requests: int,
    warmup: int,
    repeats: int,
) -> ApiResult:
    """Seed one organisation, serve the app, alternate /healthz and product-page runs."""
    key = seed_api_world(url, products)
    with served(url, data_dir) as base_url:
        health, listing = _measure(
            base_url, key, products=products, requests=requests, warmup=warmup, repeats=repeats
        )
    return ApiResult(database, requests, warmup, repeats, products, health, listing)
