"""The GeoJSON writer: RFC 7946 FeatureCollections written feature by feature."""

from __future__ import annotations

import json

from gis.export.columns import Column
from gis.export.query import Rows
from gis.export.values import json_value
from gis.export.writer import Writer
from layers.spec import Layer


class GeoJsonWriter(Writer):
    """RFC 7946 FeatureCollections written feature by feature (one file per layer; zipped if several)."""

    geometry = ("geojson",)

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.path = self.work / f"{layer.name}.geojson"
        self.f = self.path.open("w", encoding="utf-8")
        self.f.write(f'{{"type": "FeatureCollection", "name": {json.dumps(layer.name)}, "features": [\n')
        self.first = True

    def write(self, rows: Rows) -> None:
        parts = []
        at = self.at["geojson"]
        for row in rows:
            props = {c.name: json_value(v) for c, v in zip(self.cols, row, strict=False)}
            geometry = row[at] or "null"
            properties = json.dumps(props, ensure_ascii=False)
            feature = f'{{"type": "Feature", "id": {int(row[0])}, "geometry": {geometry}, "properties": {properties}}}'

            parts.append(("" if self.first else ",\n") + feature)
            self.first = False
        self.f.write("".join(parts))

    def close_layer(self) -> None:
        self.f.write("\n]}\n")
        self.f.close()

    def finish(self) -> None:
        self.one_file_or_zip("geojson")
