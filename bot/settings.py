"""Careline settings, read from the environment (pydantic-settings).

Every variable is documented in the README. Names are a contract: other parts of Careline and its
deployments rely on them exactly.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from triage.engine import TriageSettings


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
    # PostgreSQL connection pool per process (SQLite ignores these). Size it to the requests one process serves
    # at once: connections opened and closed under load cost far more than the statements they carry.
    db_pool_size: int = Field(default=30, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # Triage thresholds (US default 38.0 °C / 100.4 °F; UKONS practices use 37.5 °C).
    fever_threshold_c: float = Field(default=38.0, ge=35.0, le=40.0)

    # Paging and escalation (issue 4; README "Paging and escalation").
    paging_enabled: bool = True
    fallback_phone: str = ""  # out-of-steps alerts; empty = practice_phone
    # The number pages and alerts to staff are sent from; empty = sms_from. A number of its own gives pages a rate
    # limit of their own, so they never wait behind a burst of patient texts (here or in Twilio's queue).
    paging_from: str = ""
    # Routing is configuration: a triage level ("emergency", "urgent", "routine", "non_clinical") or a request
    # ("topic:scheduling", "topic:pharmacy" from triage topics, "flow:<outcome>") maps to a queue; unmapped = none.
    routing: dict[str, str] = Field(
        default_factory=lambda: {
            "emergency": "triage",
            "urgent": "triage",
            "routine": "care-team",
            "topic:scheduling": "scheduling",
            "topic:pharmacy": "pharmacy",
            "flow:scheduling": "scheduling",
            "flow:pharmacy": "pharmacy",
        }
    )
    # Queues that page (by their policy key); the others are worked from the console in business hours.
    queue_policies: dict[str, str] = Field(default_factory=lambda: {"triage": "default"})
    emergency_start_step: int = 1
    urgent_callback_minutes: int = 30
    business_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])  # 0 = Monday
    business_open: str = "08:00"
    business_close: str = "17:00"
    page_ttl_s: int = 15 * 60
    voice_ring_timeout_s: int = 30
    calling_stale_s: float = 120.0
    note_window_s: float = 30 * 60
    # arq worker: jobs run at once (max_jobs) and how often an idle worker looks for due jobs.
    worker_max_jobs: int = 50
    worker_poll_delay_s: float = 0.05
    worker_queue_read_limit: int = 5

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
    def alert_phone(self) -> str:
        """Where out-of-steps alerts go: CARELINE_FALLBACK_PHONE, else the practice's phone."""
        return self.fallback_phone or self.practice_phone

    @property
    def triage_settings(self) -> TriageSettings:
        return TriageSettings(fever_threshold_c=self.fever_threshold_c)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.practice_timezone)
