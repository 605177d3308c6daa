"""One Settings object for the whole process, read from ``TXNG_`` environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TXNG_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Where the embedded database and uploads live."
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty means the embedded SQLite file under data_dir.",
    )
    secret_key: str = Field(
        default="",
        description="Secret for hashing IP addresses; generated into data_dir when empty.",
    )
    cookie_secure: bool = False
    session_hours: int = 12
    default_locale: str = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    province_code: str = "24"
    province_name: str = "Bắc Ninh"
    max_image_bytes: int = 5 * 1024 * 1024
    max_document_bytes: int = 10 * 1024 * 1024
    login_rate_per_minute: int = 10
    epcis_capture_limit: int = Field(
        default=10_000, description="Most events one capture call may carry."
    )
    epcis_capture_max_bytes: int = Field(
        default=64 * 1024 * 1024, description="Largest capture document, in bytes."
    )
    smtp_host: str = Field(
        default="", description="SMTP server; empty writes .eml files to data_dir/outbox."
    )
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "TXNG <no-reply@txng.localhost>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 10.0
    registration_link_hours: int = Field(
        default=48, description="How long an e-mail verification link of a registration lasts."
    )
    registration_rate_per_hour: int = Field(
        default=10, description="Registrations and verifications per IP address and hour."
    )
    public_base_url: str = Field(
        default="", description="Base of links in e-mails; empty means the request's own URL."
    )

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'txng.sqlite3').as_posix()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.media_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret(self) -> str:
        """The configured secret, or one generated once and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        self.ensure_dirs()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
