"""pyogrio, loaded without pandas and geopandas, for a process that never asks it for a data frame.

pyogrio imports geopandas and pandas when they are installed (about 0.7 s of a command's start-up), only for
``read_dataframe``/``write_dataframe``; the importers read NumPy arrays (``pyogrio.raw``). While pyogrio loads they
are hidden — it takes them as not installed, as its own check for optional dependencies allows — and they stay
importable afterwards; but pyogrio's data-frame functions then refuse to work in that process, so only a process
that runs nothing else may ask for this (``mahalle import``, api/cli/transfer.py).
"""

from __future__ import annotations

import importlib
import sys

_NOT_NEEDED = ("geopandas", "pandas")


def load_pyogrio_without_pandas() -> bool:
    """Load pyogrio without its data-frame dependencies; False if it was loaded already (nothing changes)."""
    if "pyogrio" in sys.modules:
        return False
    hidden = [name for name in _NOT_NEEDED if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError meanwhile
    try:
        importlib.import_module("pyogrio")
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return True
