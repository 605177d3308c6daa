"""`python scripts/screenshots.py`: regenerate docs/screenshots/consumer-{vi,en}.png for the README.

Runs the consumer page's browser test (Debian's Chromium, phone viewport) on SQLite with
TXNG_SCREENSHOTS_DIR pointing at docs/screenshots.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    env = {**os.environ, "TXNG_SCREENSHOTS_DIR": str(ROOT / "docs" / "screenshots")}
    test = "tests/e2e/test_consumer_page.py"
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", "0", "--db", "sqlite", test]
    return subprocess.call(cmd, cwd=ROOT, env=env)  # noqa: S603


if __name__ == "__main__":
    raise SystemExit(main())
