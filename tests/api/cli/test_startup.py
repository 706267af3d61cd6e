"""The CLI starts without the heavy libraries (GDAL via pyogrio, pandas, alembic, folium, openpyxl, the CQL2
grammar): each command imports what it uses, so `mahalle --help` and the quick commands answer at once."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "pyogrio", "alembic", "folium", "openpyxl", "lark", "fastapi", "uvicorn")


def test_the_cli_starts_without_the_heavy_libraries():
    probe = f"import sys, api.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.split() == []


def test_a_command_still_finds_what_it_imports_late():
    probe = "import gis.export as e; print(e.export.__module__, e.RTREE_RAM > 0)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["gis.export.stream", "True"]
