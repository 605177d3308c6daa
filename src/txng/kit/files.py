"""Uploaded files: type checked by content (magic bytes), size capped, stored by content hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from txng.errors import N_

IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
DOCUMENT_TYPES = {**IMAGE_TYPES, "application/pdf": ".pdf"}


class UploadError(ValueError):
    def __init__(self, msgid: str, code: str, **params: object) -> None:
        self.msgid = msgid
        self.code = code
        self.params = params
        super().__init__(msgid)


def sniff(data: bytes) -> str | None:
    """The content type told by the first bytes, whatever the file name claims."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@dataclass(frozen=True)
class CheckedUpload:
    data: bytes
    content_type: str
    extension: str
    sha256: str
    original_name: str


def check_upload(
    data: bytes, *, original_name: str, allowed: dict[str, str], max_bytes: int
) -> CheckedUpload:
    if not data:
        raise UploadError(N_("The file is empty"), "empty")
    if len(data) > max_bytes:
        raise UploadError(
            N_("The file is too large: at most %(mb)s MB"),
            "too_large",
            mb=round(max_bytes / (1024 * 1024), 1),
        )
    content_type = sniff(data)
    if content_type not in allowed:
        kinds = ", ".join(ext.lstrip(".").upper() for ext in dict.fromkeys(allowed.values()))
        raise UploadError(N_("Unsupported file type: use %(kinds)s"), "bad_type", kinds=kinds)
    return CheckedUpload(
        data=data,
        content_type=content_type,
        extension=allowed[content_type],
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=Path(original_name or "upload").name[:255],
    )


def store(media_dir: Path, upload: CheckedUpload) -> str:
    """Write the file under a random key; returns the key (a relative path)."""
    key = f"{upload.sha256[:2]}/{upload.sha256[:16]}-{secrets.token_hex(4)}{upload.extension}"
    path = media_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(upload.data)
    tmp.replace(path)
    return key


def open_path(media_dir: Path, key: str) -> Path:
    path = (media_dir / key).resolve()
    if media_dir.resolve() not in path.parents:
        raise FileNotFoundError(key)
    return path
