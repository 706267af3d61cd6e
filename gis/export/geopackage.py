"""GeoPackage metadata added after GDAL has written the layers: a data dictionary table, the schema extension
(field aliases QGIS shows, value lists as enum constraints) and QGIS styles in ``layer_styles``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gis.export.columns import Column
from gis.export.qml import qml
from layers.spec import LANGUAGES, Layer


def add_metadata(path: Path, layers: list[tuple[Layer, list[Column]]]) -> None:
    db = sqlite3.connect(path)
    try:
        with db:
            _data_dictionary(db, layers)
            _schema_extension(db, layers)
            _styles(db, [layer for layer, _ in layers])
    finally:
        db.close()


def register(db: sqlite3.Connection, table: str, description: str) -> None:
    """A table of the GeoPackage's own (non-spatial 'attributes'), as the specification asks for every table."""
    db.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
        "VALUES (?, 'attributes', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        (table, table, description),
    )


def _data_dictionary(db: sqlite3.Connection, layers: list[tuple[Layer, list[Column]]]) -> None:
    labels = ", ".join(f"label_{lang} TEXT" for lang in LANGUAGES)
    db.execute(
        f"CREATE TABLE mahalle_data_dictionary (fid INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, "
        f"field TEXT NOT NULL, type TEXT NOT NULL, required INTEGER, unit TEXT, {labels}, value_list TEXT)"
    )
    rows = []
    for layer, cols in layers:
        for c in cols:
            attr = layer.attribute(c.name) if c.name in layer.attribute_names else None
            value_list = (
                json.dumps([{"value": ch.value, "label": ch.label} for ch in attr.choices], ensure_ascii=False)
                if attr and attr.choices
                else None
            )
            rows.append(
                (
                    layer.name,
                    c.name,
                    c.type,
                    int(bool(attr and attr.required)),
                    attr.unit if attr else None,
                    *(c.label.get(lang) for lang in LANGUAGES),
                    value_list,
                )
            )
    marks = ", ".join("?" * (6 + len(LANGUAGES)))
    db.executemany(
        f"INSERT INTO mahalle_data_dictionary (layer, field, type, required, unit, "  # noqa: S608 (fixed names)
        f"{', '.join(f'label_{lang}' for lang in LANGUAGES)}, value_list) VALUES ({marks})",
        rows,
    )
    register(db, "mahalle_data_dictionary", "Fields of every layer: labels in four languages, units, value lists")


def _schema_extension(db: sqlite3.Connection, layers: list[tuple[Layer, list[Column]]]) -> None:
    """GeoPackage schema extension: field aliases (QGIS shows them) and value lists as enum constraints."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
          name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT,
          CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name));
        CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL,
          constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC,
          max_is_inclusive BOOLEAN, description TEXT,
          CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
        CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,
          extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
          CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
        """
    )
    spec = "http://www.geopackage.org/spec121/#extension_schema"
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        db.execute(
            "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')", (table, spec)
        )
    for layer, cols in layers:
        used: set[str] = set()
        for c in cols:
            alias = c.label.get("en") or c.name
            alias = alias if alias not in used else f"{alias} ({c.name})"
            used.add(alias)
            attr = layer.attribute(c.name) if c.name in layer.attribute_names else None
            constraint = f"{layer.name}_{c.name}" if attr and attr.type == "choice" else None
            db.execute(
                "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description, "
                "constraint_name) VALUES (?, ?, ?, ?, ?, ?)",
                (layer.name, c.name, alias, alias, c.label.get("fa"), constraint),
            )
            for ch in attr.choices if constraint else ():
                db.execute(
                    "INSERT OR IGNORE INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, "
                    "description) VALUES (?, 'enum', ?, ?)",
                    (constraint, ch.value, ch.label.get("en")),
                )


def _styles(db: sqlite3.Connection, layers: list[Layer]) -> None:
    """QGIS reads a GeoPackage's ``layer_styles`` table: a categorised style on each layer's key attribute."""
    db.execute(
        "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), "
        "f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), "
        "styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
        "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )
    for layer in layers:
        style = qml(layer)
        if style:
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner) "
                "VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'mahalle')",
                (layer.name, layer.name, style, f"Mahalle style: {layer.key_attribute}"),
            )
    register(db, "layer_styles", "QGIS layer styles")
