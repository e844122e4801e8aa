"""Settings: environment, TOML file, validation messages that name the setting, the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meadhall.config import ConfigError, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("MEADHALL_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_environment_overrides(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("MEADHALL_PORT", "9123")
    clean_env.setenv("MEADHALL_DATA_DIR", str(tmp_path))
    clean_env.setenv("MEADHALL_WORKER_QUEUES", "default, ml")
    settings = load_settings()
    assert settings.port == 9123
    assert settings.worker_queues == ["default", "ml"]
    assert settings.base_url == "http://127.0.0.1:9123"


def test_toml_file_is_read_and_env_wins(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "meadhall.toml"
    config.write_text('port = 7000\nlog_level = "debug"\npublic_url = "https://hall.example.org"\n')
    clean_env.setenv("MEADHALL_CONFIG_FILE", str(config))
    clean_env.setenv("MEADHALL_PORT", "7001")
    settings = load_settings()
    assert settings.port == 7001
    assert settings.log_level == "debug"
    assert settings.base_url == "https://hall.example.org"
    assert settings.secure_cookies is True


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("MEADHALL_PORT", "eighty", "MEADHALL_PORT"),
        ("MEADHALL_PORT", "70000", "MEADHALL_PORT"),
        ("MEADHALL_DATABASE_URL", "mysql://root@localhost/db", "MEADHALL_DATABASE_URL"),
        ("MEADHALL_REDIS_URL", "http://localhost", "MEADHALL_REDIS_URL"),
        ("MEADHALL_SECRET_KEY", "short", "MEADHALL_SECRET_KEY"),
        ("MEADHALL_RATE_LIMIT_LOGIN", "lots", "MEADHALL_RATE_LIMIT_LOGIN"),
        ("MEADHALL_LOG_LEVEL", "chatty", "MEADHALL_LOG_LEVEL"),
    ],
)
def test_invalid_setting_is_named(
    clean_env: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert fragment in str(info.value)


def test_unknown_key_in_file_is_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "meadhall.toml"
    config.write_text("prot = 8000\n")
    clean_env.setenv("MEADHALL_CONFIG_FILE", str(config))
    with pytest.raises(ConfigError, match="MEADHALL_PROT"):
        load_settings()


def test_missing_config_file_is_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("MEADHALL_CONFIG_FILE", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="no such file"):
        load_settings()


def test_secret_key_generated_once_and_private(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path)
    key = settings.signing_key()
    assert len(key) >= 48
    assert load_settings(data_dir=tmp_path).signing_key() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    other = load_settings(data_dir=tmp_path / "other").signing_key()
    assert other != key


def test_serve_stops_with_a_message_naming_the_setting(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "MEADHALL_PORT": "not-a-port",
        "MEADHALL_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "meadhall", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "MEADHALL_PORT" in result.stderr


def test_every_setting_is_documented_in_the_readme() -> None:
    from meadhall.config import ENV_PREFIX
    from meadhall.wings import HOUSE

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [
        f"{ENV_PREFIX}{name.upper()}"
        for name in HOUSE.settings_class.model_fields
        if f"{ENV_PREFIX}{name.upper()}" not in readme
    ]
    assert not missing, f"settings missing from README.md: {missing}"
