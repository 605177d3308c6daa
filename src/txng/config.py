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
    # The ledger (C9). Keys come from files or the environment, never from the database.
    ledger_origin: str = Field(
        default="txng.bacninh.gov.vn/ledger", description="Checkpoint origin line of the log."
    )
    ledger_signing_key: str = Field(
        default="", description="The log's note signing key (PRIVATE+KEY+…); beats the file."
    )
    ledger_key_file: Path | None = Field(
        default=None,
        description="File with the log's signing key; empty means data_dir/ledger/log.key, "
        "created on first use.",
    )
    ledger_known_keys: str = Field(
        default="", description="Earlier log verifier keys (comma-separated), after a rotation."
    )
    ledger_witness_keys: str = Field(
        default="", description="Verifier keys of the witnesses whose cosignatures count."
    )
    ledger_quorum: int = Field(default=2, description="Cosignatures that make a checkpoint final.")
    ledger_background: bool = Field(
        default=False, description="Drain the outbox and sign checkpoints in the web process."
    )
    ledger_checkpoint_seconds: float = 60.0
    ledger_drain_seconds: float = 2.0
    stamps_per_request_max: int = Field(
        default=100_000, description="Most stamps one stamp request may ask for."
    )
    stamps_per_day_max: int = Field(
        default=200_000, description="Most stamps one organisation may request per day."
    )
    # Consumer page (C6): the province's look, scan logging and anti-counterfeit rules.
    province_logo_url: str = Field(
        default="", description="Logo on the consumer page (a URL or /static path); empty: none."
    )
    province_colour: str = Field(
        default="#0b5e3b", pattern=r"^#[0-9a-fA-F]{6}$", description="Brand colour (#rrggbb)."
    )
    scan_ip_salt: str = Field(
        default="", description="Salt of the IP hashes of scans; empty derives it from the secret."
    )
    scan_suspicious_count: int = Field(
        default=30, description="More scans than this flag a stamp as a suspected copy."
    )
    scan_max_speed_kmh: float = Field(
        default=300.0, description="Faster travel between two scans flags a suspected copy."
    )
    consumer_pages_per_minute: int = Field(
        default=300,
        description="Resolver answers (consumer pages, linksets) one IP address may get per "
        "minute; generous, since a mobile network's shared address serves many people.",
    )
    scans_per_minute: int = Field(
        default=20,
        description="Scans one IP address may add to the stamps' scan counts per minute; "
        "beyond that the page is still shown but not counted.",
    )
    problem_reports_per_hour: int = Field(
        default=5, description="Problem reports one IP address may send per hour."
    )
    resolver_on_event_loop: bool = Field(
        default=True,
        description="Serve stamp pages whose facts are cached on the event loop (their reads "
        "are short); false when the database is far from the app (ADR 15).",
    )
    consumer_cache_seconds: float = Field(
        default=10.0,
        description="How long the consumer page reuses a product's and lot's published facts "
        "(stamps, scans and recalls are always read fresh); while one request reloads them the "
        "others show the previous ones, at most as long again; 0 disables.",
    )

    consumer_upstream_cache_seconds: float = Field(
        default=300.0,
        description="How long the consumer page reuses what it keys by the ids of published "
        "events: the events traced upstream of a lot (the harvest a packed lot came from; the "
        "trace walks a lot's activated stamps, a second of database time for 10,000) and an "
        "item's own events. A newly published upstream event shows within this time; the lot's "
        "and the item's own new events within consumer_cache_seconds. 0 disables.",
    )

    db_pool_size: int = Field(
        default=20,
        ge=1,
        description="PostgreSQL connections each app process keeps open (ADR 17).",
    )
    db_pool_overflow: int = Field(
        default=20,
        ge=0,
        description="More PostgreSQL connections a process may open for a burst, closed after.",
    )

    @property
    def pool_options(self) -> dict[str, int]:
        """The app's connection pool size (PostgreSQL; SQLite keeps SQLAlchemy's)."""
        if self.sqlalchemy_url.startswith("sqlite"):
            return {}
        return {"pool_size": self.db_pool_size, "max_overflow": self.db_pool_overflow}

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
