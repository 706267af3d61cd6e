"""Running the ``mahalle`` CLI in a test: exit 0 when it should work, exit 1 with a message (never a traceback)
when it should refuse."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from typer.testing import CliRunner

from api.cli import app


def cli() -> Callable[..., Result]:
    runner = CliRunner()

    def invoke(*args: object, ok: bool = True, stdin: str | None = None) -> Result:
        result = runner.invoke(app, [str(a) for a in args], input=stdin)
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 1, result.output
            assert isinstance(result.exception, SystemExit), result.exception  # a message, never a traceback
            assert "Traceback" not in result.output
        return result

    return invoke
