"""Jinja templates, autoescaped: attribute values are always text, never markup."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def render(name: str, **context: object) -> str:
    return _env.get_template(name).render(**context)
