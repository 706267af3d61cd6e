"""The CSV writer: one file per layer (zipped if several) with WKT, and lon/lat columns for points."""

from __future__ import annotations

import csv

from gis.export.columns import Column
from gis.export.query import Rows
from gis.export.values import lon_lat, plain
from gis.export.writer import Writer
from layers.spec import Layer


class CsvWriter(Writer):
    """One CSV per layer (UTF-8 with BOM so Excel reads Persian/Arabic/Greek), WKT plus lon/lat for points."""

    geometry = ("wkb", "wkt")

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.points = layer.geometry_type == "Point"
        self.f = (self.work / f"{layer.name}.csv").open("w", encoding="utf-8-sig", newline="")
        self.csv = csv.writer(self.f)
        self.csv.writerow([c.name for c in cols] + (["lon", "lat"] if self.points else []) + ["wkt"])

    def write(self, rows: Rows) -> None:
        wkb, wkt = self.at["wkb"], self.at["wkt"]
        for row in rows:
            values = [plain(v, c.type) for c, v in zip(self.cols, row, strict=False)]
            if self.points:
                values += [None if v is None else repr(v) for v in lon_lat(row[wkb])]
            self.csv.writerow([*values, row[wkt]])

    def close_layer(self) -> None:
        self.f.close()

    def finish(self) -> None:
        self.one_file_or_zip("csv")
