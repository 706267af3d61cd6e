"""Every setting is documented, and the environment reaches it."""

from pathlib import Path

from core.settings import Settings


def test_every_setting_is_in_the_configuration_page():
    page = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`MAHALLE_{name.upper()}`" not in page]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("MAHALLE_PORT", "8123")
    monkeypatch.setenv("MAHALLE_DATABASE_URL", "postgresql://u@h/db")
    settings = Settings()
    assert settings.port == 8123 and not settings.embedded
