"""The GDAL writers' common part and the GeoPackage writer: each layer's Arrow batches streamed into one open
dataset by a single ``pyogrio.write_arrow`` call, with GDAL's in-memory spatial index bounded."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio

from gis.export.arrow import GEOMETRY, arrow_schema, record_batches
from gis.export.columns import Column
from gis.export.geopackage import add_metadata
from gis.export.query import Rows
from gis.export.writer import Writer
from layers.spec import Layer

RTREE_RAM_OPTION, RTREE_RAM = "OGR_GPKG_MAX_RAM_USAGE_RTREE", 32 * 1024 * 1024  # bytes


class OgrWriter(Writer):
    """GeoPackage, Shapefile and KML through GDAL: one ``write_arrow`` call per layer streams its batches."""

    driver = "GPKG"
    suffix = "gpkg"

    def __init__(self, work: Path, out: Path, multi: bool):
        super().__init__(work, out, multi)
        self.path = work / f"export.{self.suffix}"
        self.started: set[str] = set()
        _bound_rtree_memory()

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.names = self.field_names(cols)
        self.schema = arrow_schema(cols, self.names)

    def field_names(self, cols: list[Column]) -> list[str]:
        return [c.name for c in cols]

    def write_layer(self, layer: Layer, cols: list[Column], batches: Iterable[Rows]) -> None:
        self.open_layer(layer, cols)
        self._write(self.target_path(layer.name), layer.name, _ogr_type(layer.geometry_type), batches)

    def target_path(self, name: str) -> Path:
        return self.path

    def _write(self, path: Path, name: str, geometry_type: str, batches: Iterable[Rows]) -> None:
        failed: list[Exception] = []
        stream = pa.RecordBatchReader.from_batches(self.schema, record_batches(self.schema, self.cols, batches, failed))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                pyogrio.write_arrow(
                    stream,
                    path,
                    layer=name,
                    driver=self.driver,
                    geometry_name=GEOMETRY,
                    geometry_type=geometry_type,
                    crs="EPSG:4326",
                    encoding="UTF-8" if self.driver == "ESRI Shapefile" else None,
                    append=name in self.started,
                    **self.layer_options(),
                )
        except Exception:
            if failed:  # GDAL only says "Error while accessing batch from stream": raise what went wrong
                raise failed[0] from None
            raise
        self.started.add(name)

    def layer_options(self) -> dict[str, Any]:
        return {}

    def finish(self) -> None:
        self.path.replace(self.out)


class GpkgWriter(OgrWriter):
    def __init__(self, work: Path, out: Path, multi: bool):
        super().__init__(work, out, multi)
        self.layers: list[tuple[Layer, list[Column]]] = []

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.layers.append((layer, cols))

    def finish(self) -> None:
        add_metadata(self.path, self.layers)
        super().finish()

    def layer_options(self) -> dict[str, Any]:
        # GeoPackage 1.2: QGIS and GDAL releases still in use warn about newer versions.
        return {"layer_options": {"FID": "fid", "GEOMETRY_NAME": "geom"}, "dataset_options": {"VERSION": "1.2"}}


def _bound_rtree_memory() -> None:
    """GDAL builds a GeoPackage's spatial index in memory while the rows arrive (on another core); by default
    it may keep a share of the machine's RAM. Past this much it goes on in a temporary file, so memory does
    not grow with the layer; a value set by the operator (environment) wins."""
    if pyogrio.get_gdal_config_option(RTREE_RAM_OPTION) is None:
        pyogrio.set_gdal_config_options({RTREE_RAM_OPTION: str(RTREE_RAM)})


def _ogr_type(geometry_type: str | None) -> str:
    return "Unknown" if geometry_type in (None, "Geometry") else geometry_type
