"""Asset-inventory exports: GeoPackage, zipped Shapefile, GeoJSON, CSV, XLSX, KML/KMZ.

Rows stream from a server-side cursor in batches inside one read-only, repeatable-read transaction (all
layers from the same snapshot) and go straight to the writer: GDAL for GeoPackage, Shapefile and KML (each
batch becomes an Arrow record batch, and one ``pyogrio.write_arrow`` call per layer streams them into the open
dataset); our own streaming writers for GeoJSON, CSV and XLSX (openpyxl write-only). Memory stays at one
batch, whatever the size of the layer. The query returns only the geometry representations the writer uses.

Modules: ``options`` (what to export), ``columns`` and ``query`` (the SQL that reads it), ``stream`` (the run),
``writer`` (the writers' base), ``geojson``, ``csvfile``, ``xlsx``, ``ogr`` (GDAL, GeoPackage), ``shapefile``,
``kml``, ``arrow`` (record batches for GDAL), ``geopackage`` and ``qml`` (GeoPackage metadata, QGIS styles),
``values`` (values as the non-Arrow writers put them).
"""

from typing import Any

from gis.export.options import (
    BATCH,
    FORMATS,
    MEDIA_TYPES,
    ExportError,
    ExportOptions,
    ExportReport,
    choose_layers,
    output_name,
    parse_bbox,
    parse_list,
)

# The writers pull in GDAL, pandas and openpyxl: imported on first use, so that reading the options (the CLI's
# start, the API's forms) costs nothing.
_LAZY = {
    "export": ("gis.export.stream", "export"),
    "RTREE_RAM": ("gis.export.ogr", "RTREE_RAM"),
    "_query": ("gis.export.query", "layer_query"),
}  # fmt: skip  (bench/findings.py times the exporter's query)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    return getattr(importlib.import_module(module), attribute)


__all__ = [
    "BATCH",
    "FORMATS",
    "MEDIA_TYPES",
    "RTREE_RAM",
    "ExportError",
    "ExportOptions",
    "ExportReport",
    "_query",
    "choose_layers",
    "export",
    "output_name",
    "parse_bbox",
    "parse_list",
]
