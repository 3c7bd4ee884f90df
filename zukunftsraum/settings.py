"""Runtime configuration from ``ZR_*`` environment variables (and ``.env``).

A wrong or missing value must surface as one line naming the variable, so
``load_settings`` turns pydantic's validation report into a ``ConfigError``.
"""

from __future__ import annotations

import re
from datetime import time
from email.utils import parseaddr
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.grants.programme import GrantProgramme, month_day
from zukunftsraum.german_errors import validation_text

DEFAULT_VAR_DIR = Path("var")
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# An authserv-id as servers write it: a token, i.e. no spaces, controls or ()<>@,;:\"/[]?=
AUTHSERV_ID = re.compile(r'[^\x00-\x20\x7f()<>@,;:\\"/\[\]?=]+')


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
    telegram_webhook_secret: str = Field(default="", validate_default=True)
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443

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
    # Trusted receiving servers whose Authentication-Results count; empty: no check.
    mail_authserv_id: str = ""

    # Bot API calls: read/write timeout; a send that times out is retried once, after a pause.
    telegram_timeout_seconds: int = 30
    smtp_timeout_seconds: int = 60
    unknown_retry_seconds: int = 30
    # Outbox leases: each process beats every few seconds; leases of a process silent this
    # long are taken over by the others.
    heartbeat_seconds: int = 2
    lease_takeover_seconds: int = 15
    # Singleton roles (scheduler, Telegram polling, IMAP intake): how often a process checks
    # its role locks; a role of a dead process is taken over within about this long.
    role_check_seconds: int = 5
    # /healthz and /metrics (Prometheus); 0: off.
    http_port: int = 0
    http_listen: str = "0.0.0.0"

    sweep_seconds: int = 60
    staff_digest_time: str = "07:30"
    member_digest_time: str = "08:00"
    reminder_offsets: str = "P1D,PT1H"
    reminder_offsets_in_person: str = "P7D,P1D,PT1H"

    # Micro-grant programme; deadlines as MM-DD in Europe/Berlin.
    grant_cap_eur: int = 5000
    grant_application_deadline: str = "09-30"
    grant_invoice_deadline: str = "11-30"
    grant_max_day_rate_eur: int = 850

    # Knowledge collection: its files live under the data directory (by content hash).
    data_dir: Path = DEFAULT_VAR_DIR / "data"
    knowledge_max_mb: int = 50
    knowledge_mail_attachment_mb: int = 10

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unbekannte Zeitzone „{value}“ (z. B. Europe/Berlin)") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.split(":", 1)[0].startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("nur sqlite://- und postgresql://-Adressen werden unterstützt")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str, info: ValidationInfo) -> str:
        # Without a secret anybody could post fake updates to the webhook.
        if info.data.get("telegram_webhook_url") and not WEBHOOK_SECRET.fullmatch(value):
            raise ValueError(
                "nötig mit ZR_TELEGRAM_WEBHOOK_URL: 1 bis 256 Zeichen A-Z, a-z, 0-9, _ oder -"
            )
        return value

    @field_validator(
        "sweep_seconds",
        "grant_cap_eur",
        "grant_max_day_rate_eur",
        "imap_poll_seconds",
        "telegram_timeout_seconds",
        "smtp_timeout_seconds",
        "unknown_retry_seconds",
        "heartbeat_seconds",
        "lease_takeover_seconds",
        "knowledge_max_mb",
        "knowledge_mail_attachment_mb",
        "role_check_seconds",
    )
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("muss mindestens 1 sein")
        return value

    @field_validator("http_port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError("erwartet: ein TCP-Port 1-65535 (0: aus)")
        return value

    @field_validator("staff_digest_time", "member_digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("erwartet: eine Uhrzeit wie 07:30") from None
        return value.strip()

    @field_validator("reminder_offsets", "reminder_offsets_in_person")
    @classmethod
    def _offsets(cls, value: str) -> str:
        from core.events.timing import normalise_offsets
        from core.kernel.errors import UserError

        try:
            offsets = normalise_offsets(value.split(","))
        except UserError:
            raise ValueError(
                "erwartet: Dauern nach ISO 8601 wie P7D,P1D,PT1H (höchstens 30 Tage)"
            ) from None
        return ",".join(offsets)

    @field_validator("grant_application_deadline", "grant_invoice_deadline")
    @classmethod
    def _month_day(cls, value: str) -> str:
        try:
            month_day(value)
        except ValueError:
            raise ValueError(f"erwartet: Monat-Tag wie 09-30, nicht „{value}“") from None
        return value

    @field_validator("mail_from")
    @classmethod
    def _address(cls, value: str) -> str:
        # "assistent@example.org" or "Zukunftsraum Assistent <assistent@example.org>"
        _, address = parseaddr(value.strip())
        local, _, domain = address.rpartition("@")
        if not local or "." not in domain or "+" in local or any(c in value for c in "\r\n\0"):
            raise ValueError(
                "erwartet: eine E-Mail-Adresse, auf Wunsch mit Namen: Name <assistent@example.org>"
            )
        return value.strip()

    @field_validator("mail_authserv_id")
    @classmethod
    def _authserv_ids(cls, value: str) -> str:
        ids = [part.strip() for part in value.split(",")]
        if value.strip() and not all(AUTHSERV_ID.fullmatch(i) for i in ids):
            raise ValueError(
                "erwartet: die authserv-id des empfangenden Mailservers, z. B. mx.example.org "
                "(mehrere durch Kommas getrennt)"
            )
        return ",".join(ids) if value.strip() else ""

    @property
    def mail_authserv_ids(self) -> tuple[str, ...]:
        return tuple(self.mail_authserv_id.split(",")) if self.mail_authserv_id else ()

    @property
    def staff_digest_at(self) -> time:
        return time.fromisoformat(self.staff_digest_time)

    @property
    def member_digest_at(self) -> time:
        return time.fromisoformat(self.member_digest_time)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def grant_programme(self) -> GrantProgramme:
        return GrantProgramme(
            cap_cents=self.grant_cap_eur * 100,
            application_deadline=month_day(self.grant_application_deadline),
            invoice_deadline=month_day(self.grant_invoice_deadline),
            max_day_rate_cents=self.grant_max_day_rate_eur * 100,
            tz=self.tz,
        )

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
        raise ConfigError(f"ZR_{field.upper()}: {validation_text(first)}") from None
