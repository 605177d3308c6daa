"""Where the GS1 conformance material is: ``TXNG_CONFORMANCE_DIR`` (CI sets it), else
``../shared/conformance`` next to the repository; tests skip with a reason when it is absent."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def conformance_dir() -> Path:
    configured = os.environ.get("TXNG_CONFORMANCE_DIR")
    path = Path(configured) if configured else ROOT.parent / "shared" / "conformance"
    if not path.is_dir():
        if configured or os.environ.get("CI"):
            raise RuntimeError(f"TXNG_CONFORMANCE_DIR={path} is not a directory")
        pytest.skip(f"GS1 conformance material not found at {path} (set TXNG_CONFORMANCE_DIR)")
    return path


def maybe_dir() -> Path | None:
    """For parametrisation at collection time: None when the material is absent."""
    configured = os.environ.get("TXNG_CONFORMANCE_DIR")
    path = Path(configured) if configured else ROOT.parent / "shared" / "conformance"
    return path if path.is_dir() else None


def json_documents(kind: str = "EPCISDocument") -> list[Path]:
    """The JSON-LD examples of one document type, decided by content."""
    base = maybe_dir()
    if base is None:
        return []
    found = []
    for path in sorted((base / "epcis" / "JSON").rglob("*.jsonld")):
        if json.loads(path.read_text(encoding="utf-8")).get("type") == kind:
            found.append(path)
    return found


@cache
def epcis_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (conformance_dir() / "epcis" / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8")
    )
    return schema
