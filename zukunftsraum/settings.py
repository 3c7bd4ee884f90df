"""Runtime configuration from ``ZR_*`` environment variables (and ``.env``).

A wrong or missing value must surface as one line naming the variable, so
``load_settings`` turns pydantic's validation report into a ``ConfigError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")


class ConfigError(Exception):
    """A configuration problem, already phrased as one line for operators."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_VAR_DIR}/zukunftsraum.db"
    timezone: str = "Europe/Berlin"
    secret_key: str = ""

    telegram_token: str = ""
    telegram_bot_username: str = "ZukunftsraumBot"
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""

    smtp_host: str = ""
    smtp_port: int = 0
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    imap_host: str = ""
    imap_port: int = 0
    imap_username: str = ""
    imap_password: str = ""
    imap_tls: Literal["none", "starttls", "tls"] = "tls"
    imap_folder: str = "INBOX"
    imap_idle: bool = True
    imap_poll_seconds: int = 60
    mail_from: str = "assistent@zukunftsraum.localhost"
    mail_dir: Path = DEFAULT_VAR_DIR / "mail"

    sweep_seconds: int = 60

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.split(":", 1)[0].startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("only sqlite:// and postgresql:// URLs are supported")
        return value

    @field_validator("sweep_seconds", "imap_poll_seconds")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("mail_from")
    @classmethod
    def _address(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("must be an email address")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def imap_enabled(self) -> bool:
        return bool(self.imap_host)


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"ZR_{field.upper()}: {message}") from None
