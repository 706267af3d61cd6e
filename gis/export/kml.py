"""The KML and KMZ writers: the layers go to a GeoPackage, then ``ogr2ogr`` writes the KML in one pass."""

from __future__ import annotations

import subprocess
from typing import Any

from gis.export.columns import Column
from gis.export.ogr import OgrWriter
from gis.export.options import ExportError
from gis.export.writer import zip_files
from layers.spec import Layer


class KmlWriter(OgrWriter):
    """KML (or KMZ): GDAL's KML driver rewrites its file on every append, so the layers go to a GeoPackage
    first and ``ogr2ogr`` streams that into KML in one pass."""

    kmz = False

    def finish(self) -> None:
        kml = self.work / "doc.kml"
        command = ["ogr2ogr", "-f", "KML", str(kml), str(self.path), *sorted(self.started, key=self.order.index)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ExportError(f"Writing KML failed: {done.stderr.strip()[:300]}")
        if not self.kmz:
            kml.replace(self.out)
            return
        zip_files(self.out, [kml], self.work)

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.order = [*getattr(self, "order", []), layer.name]

    def layer_options(self) -> dict[str, Any]:
        return {"dataset_options": {"VERSION": "1.2"}}


class KmzWriter(KmlWriter):
    kmz = True
