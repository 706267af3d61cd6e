"""What every writer does: take a layer's rows a batch at a time and finish the file; zipping several files."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

from gis.export.columns import Column
from gis.export.query import Rows
from layers.spec import Layer


class Writer:
    geometry: tuple[str, ...] = ("wkb",)  # the representations (GEOMETRY_SQL) it reads after the columns

    def __init__(self, work: Path, out: Path, multi: bool):
        self.work, self.out, self.multi = work, out, multi
        self.layer: Layer | None = None
        self.cols: list[Column] = []

    def write_layer(self, layer: Layer, cols: list[Column], batches: Iterable[Rows]) -> None:
        self.open_layer(layer, cols)
        for rows in batches:
            self.write(rows)
        self.close_layer()

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        self.layer, self.cols = layer, cols
        self.at = {g: len(cols) + i for i, g in enumerate(self.geometry)}  # where each representation is in a row

    def write(self, rows: Rows) -> None:
        """Write one batch of rows of the open layer. Row-by-row writers implement this; the GDAL writers stream
        whole layers instead (they override ``write_layer``) and never call it."""
        raise NotImplementedError(f"{type(self).__name__} writes whole layers (write_layer), not batches")

    def close_layer(self) -> None:
        """After the last batch of a layer (most writers have nothing to do)."""

    def finish(self) -> None:
        """After the last layer (most writers are done by then)."""

    def one_file_or_zip(self, suffix: str) -> None:
        """Finish with the one layer's file, or a zip of every layer's file when there are several."""
        files = sorted(self.work.glob(f"*.{suffix}"))
        if self.out.is_dir():  # a folder asked for: a file per layer in it
            for f in files:
                f.replace(self.out / f.name)
        elif self.multi:
            zip_files(self.out, files, self.work)
        else:
            files[0].replace(self.out)


def zip_files(out: Path, files: Iterable[Path], root: Path) -> None:
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, f.relative_to(root).as_posix())
    tmp.replace(out)
