"""`txng demo` on a fresh data directory: migrates, loads, prints logins and keys, serves."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path):
    port = _free_port()
    env = {**os.environ, "TXNG_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200"}
    env.pop("TXNG_DATABASE_URL", None)
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "txng.cli.main", "demo", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("demo did not answer /healthz: " + (tmp_path / "demo.log").read_text())
        yield base, tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_demo_serves_the_province_with_printed_logins_and_keys(demo_server) -> None:
    base, tmp_path = demo_server
    output = (tmp_path / "demo.log").read_text()
    assert (tmp_path / "var" / "txng.sqlite3").exists()
    assert "admin@txng.demo" in output
    keys = re.findall(r"txng_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}", output.replace("\n", ""))
    assert len(keys) >= 3, output
    me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {keys[0]}"}).json()
    assert me["organisation_id"] is not None
    products = httpx.get(f"{base}/api/v1/products", headers={"Authorization": f"Bearer {keys[0]}"})
    assert products.status_code == 200
    home_vi = httpx.get(f"{base}/").text
    assert "Bắc Ninh" in home_vi
    assert 'lang="vi"' in home_vi
    home_en = httpx.get(f"{base}/", cookies={"txng_lang": "en"}).text
    assert 'lang="en"' in home_en
    assert "Sign in" in home_en
