"""The Shapefile writer: a shapefile per layer and geometry type, field names cut to 10 characters (the
mapping in fields.csv), all zipped."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import shapely

from gis.export.columns import Column
from gis.export.ogr import OgrWriter
from gis.export.query import Rows
from gis.export.writer import zip_files
from layers.spec import Layer

SHP_FIELD_MAX = 10
_SHP_TYPES = {"point": "Point", "multipoint": "MultiPoint", "line": "MultiLineString", "polygon": "MultiPolygon"}


class ShpWriter(OgrWriter):
    """A shapefile per layer and geometry type; field names cut to 10 characters, listed in fields.csv."""

    driver = "ESRI Shapefile"
    geometry = ("wkb", "dim")

    def __init__(self, work: Path, out: Path, multi: bool):
        super().__init__(work, out, multi)
        self.folder = work / "shp"
        self.folder.mkdir()
        self.field_map: list[tuple[str, str, str, str]] = []

    def field_names(self, cols: list[Column]) -> list[str]:
        return _short_names([c.name for c in cols])

    def target_path(self, name: str) -> Path:
        return self.folder / f"{name}.shp"

    def write_layer(self, layer: Layer, cols: list[Column], batches: Iterable[Rows]) -> None:
        if layer.geometry_type != "Geometry":
            super().write_layer(layer, cols, batches)
            return
        # A mixed layer: each batch is split by geometry type and appended to that type's shapefile.
        self.open_layer(layer, cols)
        for rows in batches:
            for (name, geometry_type), group in self._by_type(rows).items():
                self._write(self.target_path(name), name, geometry_type, [group])

    def _by_type(self, rows: Rows) -> dict[tuple[str, str], Rows]:
        """(shapefile, geometry type) → rows."""
        wkb, dim = self.at["wkb"], self.at["dim"]
        groups: dict[tuple[str, str], Rows] = {}
        for row in rows:
            kind = {0: "point", 1: "line", 2: "polygon"}[row[dim]]
            if kind == "point" and shapely.get_type_id(shapely.from_wkb(row[wkb])) == 4:
                kind = "multipoint"
            groups.setdefault((f"{self.layer.name}_{kind}", _SHP_TYPES[kind]), []).append(row)
        return groups

    def _write(self, path: Path, name: str, geometry_type: str, batches: Iterable[Rows]) -> None:
        if name not in self.started:
            self.field_map += [(self.layer.name, name, c.name, s) for c, s in zip(self.cols, self.names, strict=True)]
        super()._write(path, name, geometry_type, batches)

    def finish(self) -> None:
        with (self.folder / "fields.csv").open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f)
            out.writerow(["layer", "shapefile", "field", "short_name"])
            out.writerows(self.field_map)
        zip_files(self.out, sorted(p for p in self.folder.rglob("*") if p.is_file()), self.folder)


def _short_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        short = name[:SHP_FIELD_MAX]
        n = 1
        while short in out:
            suffix = str(n)
            short = name[: SHP_FIELD_MAX - len(suffix)] + suffix
            n += 1
        out.append(short)
    return out
