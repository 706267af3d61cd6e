"""The tile files of the cache scenario served as static files (Starlette's StaticFiles under uvicorn, the stack
Mahalle itself runs on): what serving a tile's bytes costs without any database. The folder is named by
``BENCH_TILE_DIR``."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

app = Starlette(routes=[Mount("/", StaticFiles(directory=os.environ["BENCH_TILE_DIR"]))])
