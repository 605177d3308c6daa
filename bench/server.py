"""`python -m bench.server URL DATA_DIR PORT`: the app in one uvicorn worker on 127.0.0.1."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import uvicorn

from txng.app import create_app
from txng.config import Settings


def main(argv: list[str]) -> None:
    url, data_dir, port = argv
    settings = Settings(
        database_url=url, data_dir=Path(data_dir), secret_key=secrets.token_urlsafe(16)
    )
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=int(port),
        workers=1,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
