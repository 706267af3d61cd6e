"""Every setting is documented, and the environment reaches it."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings, parse_db_listen


def test_every_setting_is_in_the_configuration_page():
    page = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`MAHALLE_{name.upper()}`" not in page]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("MAHALLE_PORT", "8123")
    monkeypatch.setenv("MAHALLE_DATABASE_URL", "postgresql://u@h/db")
    settings = Settings()
    assert settings.port == 8123 and not settings.embedded


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("0.0.0.0:5433", ("0.0.0.0", 5433)),
        ("127.0.0.1:1", ("127.0.0.1", 1)),
        ("[::]:5433", ("::", 5433)),
        ("[::1]:65535", ("::1", 65535)),
        ("*:5433", ("*", 5433)),
        ("localhost:5433", ("localhost", 5433)),
        ("gis-server.office.example:5433", ("gis-server.office.example", 5433)),
    ],
)
def test_db_listen_accepts_host_and_port(monkeypatch, value, parsed):
    monkeypatch.setenv("MAHALLE_DB_LISTEN", value)
    settings = Settings()
    assert settings.db_listen == value
    assert parse_db_listen(settings.db_listen) == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5433", "HOST:PORT"),
        (":5433", "HOST:PORT"),
        ("0.0.0.0", "HOST:PORT"),
        ("0.0.0.0:0", "port must be a number from 1 to 65535"),
        ("0.0.0.0:65536", "port must be a number from 1 to 65535"),
        ("0.0.0.0:pg", "port must be a number from 1 to 65535"),
        ("0.0.0.0:", "port must be a number from 1 to 65535"),
        ("::1:5433", "put an IPv6 address in brackets"),
        ("[127.0.0.1]:5433", "is not an IPv6 address"),
        ("999.1.1.1:5433", "neither an IP address"),
        ("bad_host!:5433", "neither an IP address"),
        ("-dash.example:5433", "neither an IP address"),
    ],
)
def test_db_listen_refuses_bad_values_clearly(monkeypatch, value, message):
    monkeypatch.setenv("MAHALLE_DB_LISTEN", value)
    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings()


def test_db_listen_unset_or_blank_means_socket_only(monkeypatch):
    monkeypatch.delenv("MAHALLE_DB_LISTEN", raising=False)
    assert Settings().db_listen is None
    monkeypatch.setenv("MAHALLE_DB_LISTEN", " ")
    assert Settings().db_listen is None
