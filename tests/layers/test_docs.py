"""docs/data-model.md is generated from the catalogue and must be current."""

from pathlib import Path

from layers.docs import render


def test_data_model_page_is_up_to_date():
    page = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"
    assert page.read_text(encoding="utf-8") == render(), "run: python -m layers.docs > docs/data-model.md"
