"""Settings read from `TESSERA_*` environment variables, validated at start."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Refused outside development (see _refuse_placeholder_secrets).
PLACEHOLDER_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105


class Settings(BaseSettings):
    """Every knob of the API and worker; `.env.example` lists them all."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///var/tessera.db"
    database_pool_size: int = Field(default=10, ge=1)
    # How long a statement waits for a lock (a row on PostgreSQL, the write lock on SQLite)
    # before the request is answered 503 with Retry-After.
    database_lock_timeout_ms: int = Field(default=5000, ge=50, le=60_000)
    # How many requests one process works on at once; the next wait in arrival order, and one
    # that waited `admission_max_wait_ms` is answered 503 with Retry-After (api/admission.py).
    admission_max_in_flight: int = Field(default=8, ge=1)
    admission_max_wait_ms: int = Field(default=500, ge=0, le=30_000)
    # Move what start-up made (most of the heap) out of the garbage collector's way, so a full
    # collection during a burst of requests walks only what requests made (api/main.py).
    gc_freeze_at_start: bool = True
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    public_base_url: str = "http://127.0.0.1:8000"

    jwt_issuer: str = "tessera"
    jwt_audience: str = "tessera-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=3600)
    # The pages' session cookie: an access token bound to a server-side session, checked on
    # every request, so signing out (everywhere) ends it at once.
    browser_session_ttl_seconds: int = Field(default=14 * 86_400, ge=3600)
    # Pages that look the same to everyone not signed in (the home page without a search, an
    # event's page) are served from memory for this long after one is rendered; 0: never.
    page_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    # Where the analytics dashboards answer (the back office links an event to its figures).
    dashboards_url: str = "http://127.0.0.1:8501"
    email_token_ttl_seconds: int = Field(default=48 * 3600, ge=300)
    reset_token_ttl_seconds: int = Field(default=3600, ge=300)
    phone_code_ttl_seconds: int = Field(default=600, ge=60)
    phone_code_max_attempts: int = Field(default=5, ge=1)

    password_min_length: int = Field(default=10, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19_456, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)

    redis_url: str | None = None
    rate_limit_login_ip: str = "20/minute"
    rate_limit_login_account: str = "10/15 minutes"
    rate_limit_register_ip: str = "10/hour"
    rate_limit_reset_ip: str = "10/hour"
    rate_limit_reset_account: str = "3/hour"
    rate_limit_verify_ip: str = "30/hour"
    rate_limit_verify_account: str = "10/hour"

    # Notifications. Email goes to .eml files under mail_dir unless mail_backend is smtp; text
    # messages to sms_dir unless sms_backend is twilio; push needs a VAPID key (PEM or base64url
    # DER of a P-256 private key). Account messages (verification, reset) are sent right after
    # the request when deliver_notifications_inline is on; everything else by `tessera worker`.
    mail_dir: Path = Path("var/mail")
    sms_dir: Path = Path("var/sms")
    mail_from: str = "Tessera <no-reply@tessera.localhost>"
    deliver_notifications_inline: bool = True
    mail_backend: Literal["file", "smtp"] = "file"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    sms_backend: Literal["file", "twilio"] = "file"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    vapid_private_key: SecretStr | None = None
    vapid_subject: str = "mailto:no-reply@tessera.localhost"
    push_ttl_seconds: int = Field(default=86_400, ge=0)
    # Signs the delivery callbacks of an email provider (POST /notifications/webhooks/email).
    email_webhook_secret: SecretStr | None = None
    notification_max_attempts: int = Field(default=6, ge=1, le=50)
    notification_retry_base_seconds: float = Field(default=30, ge=0)
    notification_retry_max_seconds: float = Field(default=3600, ge=0)
    notification_lease_seconds: int = Field(default=120, ge=1)

    # Social login. A provider is offered only when its credentials are set. The endpoint
    # settings default to the providers' real ones (tests point them at a loopback provider).
    oauth_state_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: SecretStr | None = None
    oauth_google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    oauth_microsoft_client_id: str | None = None
    oauth_microsoft_client_secret: SecretStr | None = None
    oauth_microsoft_tenant: str = "common"
    oauth_microsoft_discovery_url: str | None = None  # default: from the tenant
    oauth_apple_client_id: str | None = None  # the Services ID
    oauth_apple_team_id: str | None = None
    oauth_apple_key_id: str | None = None
    oauth_apple_private_key: SecretStr | None = None  # the .p8 key (PEM)
    oauth_apple_discovery_url: str = "https://appleid.apple.com/.well-known/openid-configuration"
    oauth_github_client_id: str | None = None
    oauth_github_client_secret: SecretStr | None = None
    oauth_github_authorize_url: str = "https://github.com/login/oauth/authorize"
    # The token endpoints below are URLs, not secrets.
    oauth_github_token_url: str = "https://github.com/login/oauth/access_token"  # noqa: S105
    oauth_github_api_url: str = "https://api.github.com"
    oauth_facebook_client_id: str | None = None
    oauth_facebook_client_secret: SecretStr | None = None
    oauth_facebook_authorize_url: str = "https://www.facebook.com/v19.0/dialog/oauth"
    oauth_facebook_token_url: str = "https://graph.facebook.com/v19.0/oauth/access_token"  # noqa: S105
    oauth_facebook_graph_url: str = "https://graph.facebook.com/v19.0"

    booking_hold_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # On PostgreSQL, the common `POST /bookings` (one line, JSON, a bearer token) is booked in
    # one statement (api/bookings/express.py); off, every booking takes the readable path.
    express_bookings: bool = True
    # Open its connections when the app starts rather than in the first burst of bookings.
    express_open_at_start: bool = True

    # Payments: the provider new payments go to, and the platform's fee on each paid booking
    # (basis points of the amount plus a fixed part in minor units, rounded half up).
    payment_provider: Literal["sandbox", "stripe"] = "sandbox"
    platform_fee_bps: int = Field(default=250, ge=0, le=10_000)
    platform_fee_fixed_cents: int = Field(default=0, ge=0, le=100_000)
    # How long a booking paid by bank transfer or at the door is held for the money to arrive
    # (never past the event's start).
    manual_payment_hold_hours: int = Field(default=72, ge=1, le=24 * 60)
    # Stripe: the secret key turns the provider on; the webhook secret checks Stripe's calls
    # to /payments/webhooks/stripe. The API base is for a Stripe-compatible test server.
    stripe_secret_key: SecretStr | None = None
    # The publishable key (pk_...) the checkout page gives Stripe.js for the Payment Element.
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    # The sandbox announces what happens to its payments as Stripe does: events signed with this
    # secret, delivered by the worker to {public_base_url}/payments/webhooks/sandbox. Outcomes
    # that Stripe's test mode gives later (a SEPA debit clearing, a dispute) land this many
    # seconds after the payment.
    sandbox_webhook_secret: SecretStr = SecretStr("whsec_tessera_sandbox")
    sandbox_settle_seconds: float = Field(default=5.0, ge=0, le=24 * 3600)

    # Where the data platform publishes the analytics snapshot (finance exports read it).
    snapshot_dir: Path = Path("var/snapshot")

    # Search: the pipelines write the index, the API queries it. tantivy keeps it in files
    # under search_dir; opensearch needs opensearch_url (readers use the alias).
    search_backend: Literal["tantivy", "opensearch"] = "tantivy"
    search_dir: Path = Path("var/search")
    opensearch_url: str | None = None
    opensearch_alias: str = "tessera-events"

    media_dir: Path = Path("var/media")
    media_url: str | None = Field(
        default=None, description="fsspec URL such as s3://bucket/media; local media_dir if unset"
    )
    media_public_url: str | None = Field(
        default=None, description="Where clients fetch media; {public_base_url}/media if unset"
    )
    media_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    log_level: str = "INFO"
    log_json: bool = True

    # /metrics needs this bearer token whenever it is set; unset, it is open in development
    # and test and answers 404 in production.
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    # Reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; empty trusts no one.
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(default_factory=list)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _check_notification_providers(self) -> Settings:
        if self.mail_backend == "smtp" and not self.smtp_host:
            raise ValueError("TESSERA_MAIL_BACKEND=smtp needs TESSERA_SMTP_HOST")
        if self.sms_backend == "twilio" and not (
            self.twilio_account_sid
            and self.twilio_auth_token
            and (self.twilio_from or self.twilio_messaging_service_sid)
        ):
            raise ValueError(
                "TESSERA_SMS_BACKEND=twilio needs TESSERA_TWILIO_ACCOUNT_SID, "
                "TESSERA_TWILIO_AUTH_TOKEN and TESSERA_TWILIO_FROM (or a messaging service)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.env == "production" and (secret == PLACEHOLDER_SECRET or len(secret) < 32):
            raise ValueError(
                "TESSERA_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return self

    def derived_key(self, purpose: str) -> bytes:
        """A key for one purpose (JWT signing, sealing) derived from the single secret."""
        return hmac.new(
            self.secret_key.get_secret_value().encode(), purpose.encode(), hashlib.sha256
        ).digest()

    @property
    def media_base_url(self) -> str:
        return (self.media_public_url or f"{self.public_base_url}/media").rstrip("/")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` and pass it to `create_app`."""
    return Settings()
