"""Configuration from the environment (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOCKGRAPH_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "STOCKGRAPH_DATABASE_URL")
    )
    app_database_url: str | None = Field(
        default=None,
        description="Optional separate login for the API's role; default: DATABASE_URL "
        "with SET ROLE stockgraph_app",
    )
    home: Path = Path(".stockgraph")
    env: Literal["development", "production"] = "development"
    signing_key: SecretStr | None = None
    signing_key_file: Path | None = None
    data_key: SecretStr | None = None
    data_key_file: Path | None = Field(
        default=None, description="A file holding the data key (`stockgraph keys generate --out`)"
    )
    issuer: str | None = Field(
        default=None, description="Token iss and discovery issuer; default: the public URL"
    )
    audience: str = "stockgraph-api"
    public_url: str | None = None
    app_token_ttl: int = 3600
    pool_size: int = 10
    introspection: bool | None = None
    graphiql: bool | None = None
    legacy_graphql_ws: bool = False
    max_body_bytes: int = 1_000_000
    # a multipart upload (createImport) from an authenticated caller
    max_upload_bytes: int = 64 * 1024 * 1024 + 64 * 1024
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    # Query cost (api/cost.py, api/throttle.py; Shopify's model and names)
    max_query_cost: int = Field(default=1000, description="Most a single document may cost")
    cost_bucket_size: int = Field(
        default=2000, description="Points in each client's bucket (throttleStatus.maximumAvailable)"
    )
    cost_restore_rate: float = Field(
        default=100.0, description="Points a second refilled in each bucket, per process"
    )
    max_selection_width: int = Field(
        default=100, description="Most selections in one selection set (checked before validation)"
    )
    max_selection_fields: int = Field(
        default=1000, description="Most fields in a document, fragments expanded"
    )
    # Memory: every cache bounded by bytes
    document_cache_bytes: int = Field(
        default=64 * 1024 * 1024, description="Parsed and validated documents (estimated bytes)"
    )
    plan_cache_bytes: int = Field(
        default=32 * 1024 * 1024, description="Compiled plans (estimated bytes)"
    )
    persisted_cache_bytes: int = Field(
        default=32 * 1024 * 1024, description="Persisted documents' text (bytes)"
    )
    token_cache_bytes: int = Field(
        default=8 * 1024 * 1024, description="Verified tokens and their claims (estimated bytes)"
    )
    # WebSocket limits
    ws_max_frame_bytes: int = Field(
        default=1_000_000, description="Largest WebSocket message accepted (close 4400 beyond)"
    )
    ws_max_json_depth: int = Field(
        default=64, description="Deepest nesting of a WebSocket message's JSON (close 4400 beyond)"
    )
    max_websockets_per_client: int = Field(
        default=20, description="Open WebSocket connections per app or staff member, per process"
    )
    compiled_reads: bool = Field(
        default=True,
        description="Answer repeated stock and catalog queries from compiled plans",
    )
    subscription_queue_size: int = 10_000
    max_subscriptions_per_connection: int = 50
    ws_init_timeout_seconds: float = 5.0
    webhooks_enabled: bool = True
    webhook_backoff_base_seconds: float = 5.0
    webhook_max_attempts: int = 12
    webhook_timeout_seconds: float = 10.0
    notifications_enabled: bool = True
    notification_backoff_base_seconds: float = 30.0
    notification_max_attempts: int = 8
    notification_timeout_seconds: float = 15.0
    member_retag_minutes: float = Field(
        default=60.0, description="Recompute every member's computed tags this often (0: never)"
    )
    # The token endpoint's limits (domain.tenancy.throttle) and token revocation.
    oauth_client_rate: int = 30
    oauth_address_rate: int = 60
    oauth_window_seconds: float = 60.0
    oauth_lockout_failures: int = 5
    oauth_lockout_seconds: float = 300.0
    revocation_poll_seconds: float = 2.0
    member_search_per_second: float = 1.0
    member_search_burst: int = 30
    id_key: SecretStr | None = Field(
        default=None,
        description="Key of the global-ID permutation (domain.ids); never change it. "
        "Default: derived from the data key in production, a fixed key in development",
    )
    scheduler_enabled: bool = Field(
        default=True, description="Run the periodic jobs (forecasts, holiday checks, offers)"
    )
    scheduler_tick_seconds: float = 60.0
    scheduler_period_seconds: float = Field(
        default=0, description="Testing: every job's period is this many seconds (0: natural)"
    )
    webhook_allow_http: bool | None = Field(
        default=None, description="Allow http:// webhook URLs (default: only in development)"
    )
    access_log: Literal["off", "sampled", "all"] | None = Field(
        default=None,
        description="Per-request access log (JSON lines): off, sampled or all "
        "(default: all in development, off in production; request metrics always)",
    )
    access_log_sample: float = Field(
        default=0.01, ge=0.0, le=1.0, description="The share of requests logged when sampled"
    )

    @property
    def token_issuer(self) -> str:
        """RFC 8414: the issuer is the URL the metadata is served under."""
        return self.issuer or (self.public_url or "http://127.0.0.1:8000").rstrip("/")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.production

    @property
    def access_log_rate(self) -> float:
        """The share of requests that get an access-log line (0: none)."""
        mode = self.access_log or ("off" if self.production else "all")
        return {"off": 0.0, "sampled": self.access_log_sample, "all": 1.0}[mode]

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.production

    def signing_key_pem(self) -> bytes:
        """The token-signing key: given, from a file, or generated under home in development."""
        from auth.tokens import load_or_create_signing_key

        if self.signing_key:
            return self.signing_key.get_secret_value().encode()
        if self.signing_key_file:
            return self.signing_key_file.read_bytes()
        if self.production:
            raise RuntimeError(
                "STOCKGRAPH_SIGNING_KEY or STOCKGRAPH_SIGNING_KEY_FILE must be set in production"
            )
        return load_or_create_signing_key(self.home / "signing-key.pem")

    def id_key_bytes(self) -> bytes | None:
        """The global-ID key: given, derived from the data key in production, else None."""
        import hashlib
        import hmac

        if self.id_key:
            return self.id_key.get_secret_value().encode()
        if self.production:
            return hmac.new(
                self.data_key_bytes(), b"stockgraph/global-ids/v1", hashlib.sha256
            ).digest()
        return None

    def data_key_bytes(self) -> bytes:
        """The personal-data master key: given, or generated under home in development."""
        from domain.members.crypto import load_or_create_master_key, parse_master_key

        if self.data_key:
            return parse_master_key(self.data_key.get_secret_value())
        if self.data_key_file:
            return parse_master_key(self.data_key_file.read_text())
        if self.production:
            raise RuntimeError(
                "STOCKGRAPH_DATA_KEY or STOCKGRAPH_DATA_KEY_FILE must be set in production"
            )
        return load_or_create_master_key(self.home / "data-key")
