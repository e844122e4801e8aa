"""Settings, read from ``MEADHALL_*`` environment variables and an optional TOML file.

Every setting is validated at start; an invalid one stops the server with a message that names
it. No secret has a working default: the signing key is generated once and kept in the data
folder when it is not given.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "MEADHALL_"
CONFIG_FILE_ENV = "MEADHALL_CONFIG_FILE"
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(Exception):
    """The configuration is invalid; the message names every offending setting."""


class Settings(BaseSettings):
    """The platform's configuration. Field names map to ``MEADHALL_<NAME>`` variables.

    A wing with settings of its own subclasses this class; the house composes one class from
    them all (``House.settings_class``), so one pass validates everything.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    # Where the server keeps its state: embedded database, secret key, library files.
    data_dir: Path = Path("data")
    # Unset: an embedded PostgreSQL is started in ``data_dir/postgres``.
    database_url: str | None = None
    database_pool_size: Annotated[int, Field(ge=1, le=200)] = 10
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    # The address people open; used in e-mails and printed at start.
    public_url: AnyHttpUrl | None = None
    secret_key: SecretStr | None = None
    # Unset: events and rate limits stay inside one process.
    redis_url: str | None = None
    # Namespace of this install's Redis keys; unset: derived from the database name.
    redis_key_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9:_.\-]{1,100}$")] | None = None

    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "meadhall@localhost"
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0

    access_token_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=365)] = 30
    # A spent refresh token presented again this soon, before the chain moved on, is a lost
    # response (a page left mid-refresh, two tabs at once), not a thief: it gets a new pair.
    refresh_reuse_grace_seconds: Annotated[int, Field(ge=0, le=300)] = 10
    password_reset_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 60
    # Cookies carry the Secure flag when the public URL is https (or when forced).
    cookie_secure: bool | None = None

    max_json_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024

    rate_limit_login: str = "10/minute"
    rate_limit_register: str = "5/minute"
    rate_limit_refresh: str = "30/minute"
    rate_limit_password_reset: str = "5/hour"

    # Job workers started inside ``meadhall serve``; ``meadhall worker`` runs more elsewhere.
    workers_in_process: bool = True
    worker_concurrency: Annotated[int, Field(ge=1, le=64)] = 2
    worker_queues: list[str] | None = None
    # A worker silent for this long is declared dead and its running jobs are retried.
    worker_stalled_seconds: Annotated[int, Field(ge=2, le=3600)] = 30
    worker_heartbeat_seconds: Annotated[float, Field(gt=0, le=600)] = 5.0
    # Extra modules that register job kinds (besides those the wings' manifests list).
    job_modules: list[str] | None = None

    # How many recent events (all topics together) are kept for clients that reconnect.
    event_buffer_size: Annotated[int, Field(ge=10, le=100_000)] = 1000
    websocket_heartbeat_seconds: Annotated[float, Field(gt=0, le=300)] = 25.0

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgres(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = value.split("://", 1)[0]
        if scheme not in {"postgresql", "postgres", "postgresql+psycopg"}:
            raise ValueError("must be a PostgreSQL URL such as postgresql://user@host:5432/db")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a Redis URL such as redis://127.0.0.1:6379/0")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters long")
        return value

    @field_validator(
        "rate_limit_login",
        "rate_limit_register",
        "rate_limit_refresh",
        "rate_limit_password_reset",
    )
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"is not a rate limit such as '10/minute': {exc}") from None
        return value

    @field_validator("worker_queues", "job_modules", mode="before")
    @classmethod
    def _split_queues(cls, value: object) -> object:
        if isinstance(value, str):
            return [q.strip() for q in value.split(",") if q.strip()] or None
        return value

    @model_validator(mode="after")
    def _smtp_complete(self) -> Settings:
        if self.smtp_username and not self.smtp_password:
            raise ValueError("smtp_password is required when smtp_username is set")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise ConfigError(f"{CONFIG_FILE_ENV}: no such file: {path}")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # Derived values -----------------------------------------------------------------------

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @cached_property
    def base_url(self) -> str:
        if self.public_url is not None:
            return str(self.public_url).rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::"} else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @cached_property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.base_url.startswith("https://")

    @cached_property
    def redis_namespace(self) -> str:
        """The prefix of this install's Redis keys, so two installs can share one Redis.

        ``redis_key_prefix`` when set; otherwise derived from the database (name plus a digest
        of host, port and name), or from the data folder when the database is the embedded one.
        """
        if self.redis_key_prefix:
            return self.redis_key_prefix
        if self.database_url:
            parts = urlsplit(self.database_url)
            name = parts.path.lstrip("/") or "postgres"
            identity = f"{parts.hostname}:{parts.port}/{name}"
        else:
            name = "embedded"
            identity = str(self.resolved_data_dir)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
        return f"meadhall:{name}:{digest}:"

    @property
    def smtp_enabled(self) -> bool:
        return self.smtp_host is not None

    def signing_key(self) -> str:
        """The key that signs tokens: the configured one, or one generated once per data dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.resolved_data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting together agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def load_settings(*, settings_class: type[Settings] = Settings, **overrides: object) -> Settings:
    """Read and validate the settings; raise :class:`ConfigError` naming every bad setting.

    ``settings_class`` is the platform's :class:`Settings` or a subclass with the wings' own
    fields (see ``House.settings_class``).
    """
    try:
        return settings_class(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            env_name = f"{ENV_PREFIX}{name.upper()}" if error["loc"] else name
            lines.append(f"{env_name}: {error['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
