"""Careline settings, read from the environment (pydantic-settings).

Every variable is documented in the README. Names are a contract: other parts of Careline and its
deployments rely on them exactly.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARELINE_", extra="ignore", frozen=True, populate_by_name=True)

    database_url: str = "sqlite+aiosqlite:///./careline.db"
    redis_url: str = ""
    public_url: str = "http://127.0.0.1:8080"
    twilio_account_sid: str = Field(default="", validation_alias=AliasChoices("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: str = Field(default="", validation_alias=AliasChoices("TWILIO_AUTH_TOKEN"))
    twilio_api_url: str = "https://api.twilio.com"
    sms_from: str = ""
    messaging_service_sid: str = ""
    voice_from: str = ""
    secret_key: str = "dev-insecure-secret-change-me"  # noqa: S105 (a dev default; README says to set it)
    practice_name: str = "Careline Demo Oncology"
    practice_phone: str = "+15555550100"
    practice_timezone: str = "America/New_York"

    # Operational knobs (documented in the README, safe defaults).
    twilio_timeout_s: float = 10.0
    sms_segments_per_second: float = 1.0
    sms_ttl_s: int = 4 * 3600
    send_max_attempts: int = 6
    send_backoff_base_s: float = 1.0
    reconcile_delay_s: float = 30.0
    sms_burst_s: float = 1.0
    sweep_interval_s: float = 30.0
    inbound_stale_s: float = 20.0
    sending_stale_s: float = 120.0
    log_level: str = "INFO"

    @field_validator("practice_timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def twilio_enabled(self) -> bool:
        """With no credentials Careline uses the console transport."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.practice_timezone)
