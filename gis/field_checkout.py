"""A neighbourhood's layers as a GeoPackage for QField, Mergin Maps or QGIS: the field's copy, edited offline.

The layers are written by the asset-inventory export (``gis.export``: one table per layer, value lists as GeoPackage
coded domains, aliases, QGIS styles in ``layer_styles``), with the features that lie in or cross the neighbourhood
and that the user may read (the connection carries their rights). Then three things make it a *checkout*:

- ``mahalle_checkout``: one row saying which checkout this is (a UUID), of which neighbourhood and layers, which
  attributes each layer's rows carry, when, for whom and from which server;
- ``mahalle_baseline``: per layer and uid, the feature id, its version, the attributes as written, and SHA-256s of
  the row and of its geometry, so the check-in (``importers.field_checkin``) can tell what the field changed,
  attribute by attribute, without a second copy of the geometries;
- the QGIS styles gain forms: value lists as drop-downs, the database's columns (and, for a field worker, the
  attributes they may not change) read-only, and a new row's ``uid`` filled with a fresh UUID.

The hash is taken from the file itself, read back the way the check-in reads it (``read_rows``), so an untouched
row always matches its baseline, whatever GDAL did to its types on the way in.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import psycopg
import pyogrio

from core.errors import InvalidInput, NotFound
from gis.export import ExportOptions, choose_layers, export
from gis.export.geopackage import register
from gis.export.qml import qml
from layers.catalogue import Catalogue
from layers.spec import LANGUAGES, Layer, text_in

FORMAT = 1  # of the checkout tables; a check-in refuses a file of a newer format
CHECKOUT_TABLE = "mahalle_checkout"
BASELINE_TABLE = "mahalle_baseline"
MEDIA_TYPE = "application/geopackage+sqlite3"
# Columns the export writes that the database keeps: shown in the field, never taken back from it.
READ_ONLY_COLUMNS = (
    "id", "uid", "neighbourhood", "area_m2", "length_m", "version", "updated_at", "updated_by", "source", "source_id",
)  # fmt: skip
NEW_UID = "uuid('WithoutBraces')"  # QGIS expression: a row added in QField gets its uid at once


@dataclass(frozen=True)
class FileRow:
    """A layer's row as the GeoPackage holds it: its GeoPackage fid, the server's uid, id and version it was
    checked out with (None for a row added in the field), the layer's attributes and the geometry as WKB."""

    fid: int
    uid: str | None
    feature_id: int | None
    version: int | None
    values: dict[str, Any]
    wkb: bytes | None

    @property
    def plain_values(self) -> dict[str, Any]:
        """The attributes as JSON values (dates as ISO 8601 text), as the baseline keeps them."""
        return {name: _plain(v) for name, v in self.values.items()}

    @property
    def geometry_sha256(self) -> str | None:
        return hashlib.sha256(self.wkb).hexdigest() if self.wkb else None

    @property
    def sha256(self) -> str:
        """What the row says (attributes in order, then the geometry), as a stable fingerprint."""
        content = [*self.plain_values.values(), self.geometry_sha256]
        text = json.dumps(content, separators=(",", ":"), ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


@dataclass(frozen=True)
class CheckoutInfo:
    """The ``mahalle_checkout`` row."""

    id: uuid.UUID
    neighbourhood: str
    layers: list[str]
    fields: dict[str, list[str]]  # layer → the attributes its rows carry (what the baseline hash covers)
    created_at: str
    created_by: str | None
    server_url: str | None
    format: int = FORMAT


@dataclass
class CheckoutReport:
    id: uuid.UUID
    neighbourhood: str
    path: str
    layers: dict[str, int] = field(default_factory=dict)  # features per layer
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "neighbourhood": self.neighbourhood, "path": self.path, "layers": self.layers,
                "seconds": self.seconds}  # fmt: skip


@dataclass(frozen=True)
class _Hood:
    id: int
    code: str
    name: str
    wkt: str


def field_layers(catalogue: Catalogue, names: Sequence[str] | None) -> list[Layer]:
    """The layers to check out: those named (spatial ones only), or every spatial layer but the boundaries."""
    if names:
        return choose_layers(catalogue, ExportOptions(format="gpkg", layers=list(names)))
    return [layer for layer in catalogue.spatial() if layer.name != "neighbourhoods"]


def checkout(
    conn: psycopg.Connection,
    catalogue: Catalogue,
    code: str,
    layer_names: Sequence[str] | None,
    out: Path,
    *,
    user: str | None,
    server_url: str | None = None,
    lang: str = "en",
) -> CheckoutReport:
    """Write the checkout of neighbourhood ``code`` to ``out``; what went in."""
    started = time.monotonic()
    if lang not in LANGUAGES:
        raise InvalidInput(f"there is no language {lang!r}; use one of {', '.join(LANGUAGES)}", "lang")
    layers = field_layers(catalogue, layer_names)
    with tempfile.TemporaryDirectory(prefix="mahalle-checkout-") as work:
        path = Path(work) / "checkout.gpkg"
        # One snapshot: the features, their versions and the rights the forms follow.
        fresh = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with conn.transaction():
            if fresh:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            hood = _neighbourhood(conn, code)
            options = ExportOptions(format="gpkg", layers=[la.name for la in layers], polygon=hood.wkt)
            exported = export(conn, catalogue, options, path)
            editable = {layer.name: _editable(conn, layer, hood.id) for layer in layers}
        info = CheckoutInfo(
            id=uuid.uuid4(), neighbourhood=hood.code, layers=[la.name for la in layers],
            fields={la.name: list(la.attribute_names) for la in layers},
            created_at=datetime.now(UTC).isoformat(timespec="seconds"), created_by=user, server_url=server_url,
        )  # fmt: skip
        _finish(path, info, layers, editable, lang)
        shutil.move(path, out)
    seconds = round(time.monotonic() - started, 3)
    return CheckoutReport(info.id, hood.code, str(out), dict(exported.layers), seconds)


def _neighbourhood(conn: psycopg.Connection, code: str) -> _Hood:
    row = conn.execute(
        "SELECT id, code, name, ST_AsText(geom) FROM public.neighbourhoods WHERE code = %s", [code]
    ).fetchone()
    if row is None:  # unknown, or not one the user may read (row-level security): the same answer
        raise NotFound(f"There is no neighbourhood {code!r} you may see.")
    return _Hood(*row)


def _editable(conn: psycopg.Connection, layer: Layer, nid: int) -> tuple[str, ...]:
    """The attributes this user may change in the neighbourhood: all of them (an editor), the layer's
    ``field_editable`` ones (a field worker), or none. Only the forms follow it; the database decides."""
    edit, field_ = conn.execute(
        "SELECT mahalle.in_scope(%s, mahalle.scope('edit', %s)), mahalle.in_scope(%s, mahalle.scope('field', %s))",
        [nid, layer.name, nid, layer.name],
    ).fetchone()
    if edit:
        return layer.attribute_names
    return layer.field_editable if field_ else ()


# The checkout's own tables -------------------------------------------------------------------------


def _finish(
    path: Path, info: CheckoutInfo, layers: list[Layer], editable: dict[str, tuple[str, ...]], lang: str
) -> None:
    """Add the checkout and baseline tables and the forms to the GeoPackage GDAL has written."""
    baseline = [(layer.name, row) for layer in layers for row in read_rows(path, layer.name, info.fields[layer.name])]
    db = sqlite3.connect(path)
    try:
        with db:
            _write_info(db, info)
            _write_baseline(db, baseline)
            for layer in layers:
                _write_form(db, layer, editable[layer.name], lang)
    finally:
        db.close()


def _write_info(db: sqlite3.Connection, info: CheckoutInfo) -> None:
    db.execute(
        f"CREATE TABLE {CHECKOUT_TABLE} (fid INTEGER PRIMARY KEY AUTOINCREMENT, checkout_id TEXT NOT NULL, "
        "format INTEGER NOT NULL, neighbourhood TEXT NOT NULL, layers TEXT NOT NULL, fields TEXT NOT NULL, "
        "created_at TEXT NOT NULL, created_by TEXT, server_url TEXT)"
    )
    db.execute(
        f"INSERT INTO {CHECKOUT_TABLE} (checkout_id, format, neighbourhood, layers, fields, created_at, "  # noqa: S608
        "created_by, server_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (str(info.id), info.format, info.neighbourhood, json.dumps(info.layers), json.dumps(info.fields),
         info.created_at, info.created_by, info.server_url),
    )  # fmt: skip
    register(db, CHECKOUT_TABLE, "Mahalle checkout: what this file is (mahalle field checkin reads it; keep it)")


def _write_baseline(db: sqlite3.Connection, rows: list[tuple[str, FileRow]]) -> None:
    db.execute(
        f"CREATE TABLE {BASELINE_TABLE} (fid INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, "
        "uid TEXT NOT NULL, row_fid INTEGER NOT NULL, feature_id INTEGER NOT NULL, version INTEGER NOT NULL, "
        "sha256 TEXT NOT NULL, attributes TEXT NOT NULL, geometry_sha256 TEXT, UNIQUE (layer, uid))"
    )
    # The attributes as checked out tell the check-in which ones the field changed (what it sends is only those, so
    # a planner who keeps the field's side of a conflict overwrites nothing else); the geometry, only its hash.
    db.executemany(
        f"INSERT INTO {BASELINE_TABLE} (layer, uid, row_fid, feature_id, version, sha256, attributes, "  # noqa: S608
        "geometry_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(name, r.uid, r.fid, r.feature_id, r.version, r.sha256, json.dumps(r.plain_values, ensure_ascii=False),
          r.geometry_sha256) for name, r in rows],
    )  # fmt: skip
    register(db, BASELINE_TABLE, "Mahalle checkout: the rows as checked out (do not edit)")


# Forms for QGIS and QField -------------------------------------------------------------------------


def _write_form(db: sqlite3.Connection, layer: Layer, editable: tuple[str, ...], lang: str) -> None:
    """The layer's default style in ``layer_styles``, with the form added to the export's symbology."""
    style = form_qml(layer, editable, lang)
    db.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer.name,))
    db.execute(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
        "styleQML, styleSLD, useAsDefault, description, owner) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'mahalle')",
        (layer.name, layer.name, style, "Mahalle field form"),
    )


def form_qml(layer: Layer, editable: Sequence[str], lang: str = "en") -> str:
    """A QGIS style (QML): the export's symbology, value lists as drop-downs (the value kept, its label shown),
    what the user may not change read-only, and a fresh UUID as a new row's uid."""
    symbology = qml(layer)
    if symbology:
        root = ET.fromstring(symbology.split("\n", 1)[1])  # without the DOCTYPE line
        root.set("styleCategories", "Symbology|Fields|Forms")
    else:
        root = ET.Element("qgis", version="3.28", styleCategories="Fields|Forms")
    widgets = ET.SubElement(root, "fieldConfiguration")
    for attr in layer.attributes:
        if attr.type == "choice":
            widgets.append(_value_map(attr.name, [(c.value, text_in(c.label, lang) or c.value) for c in attr.choices]))
    fixed = ET.SubElement(root, "editable")
    for name in (*READ_ONLY_COLUMNS, *layer.attribute_names):
        if name not in editable:
            ET.SubElement(fixed, "field", name=name, editable="0")
    defaults = ET.SubElement(root, "defaults")
    ET.SubElement(defaults, "default", field="uid", expression=NEW_UID, applyOnUpdate="0")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def _value_map(name: str, entries: list[tuple[str, str]]) -> ET.Element:
    """QGIS's ValueMap widget: a list of one-entry maps, label → stored value."""
    element = ET.Element("field", name=name, configurationFlags="None")
    widget = ET.SubElement(element, "editWidget", type="ValueMap")
    config = ET.SubElement(ET.SubElement(widget, "config"), "Option", type="Map")
    values = ET.SubElement(config, "Option", type="List", name="map")
    for value, label in entries:
        ET.SubElement(ET.SubElement(values, "Option", type="Map"), "Option", type="QString", name=label, value=value)
    return element


# Reading a checkout back (the check-in reads it the same way) -------------------------------------------


def read_rows(path: Path, table: str, attributes: Sequence[str]) -> Iterator[FileRow]:
    """The rows of a layer's table, a batch at a time; GDAL reads the GeoPackage (whoever wrote it)."""
    with pyogrio.open_arrow(path, layer=table, return_fids=True, use_pyarrow=True) as (meta, reader):
        for batch in reader:
            for row in batch.to_pylist():
                yield _file_row(row, meta.get("fid_column") or "fid", meta.get("geometry_name") or "geom", attributes)


def _file_row(row: dict[str, Any], fid: str, geom: str, attributes: Sequence[str]) -> FileRow:
    uid = row.get("uid")
    return FileRow(
        fid=row.get(fid) if fid in row else row["OGC_FID"],
        uid=uid.strip() if isinstance(uid, str) and uid.strip() else None,
        feature_id=_whole(row.get("id")),
        version=_whole(row.get("version")),
        values={name: row.get(name) for name in attributes},
        wkb=row.get(geom) if geom in row else row.get("wkb_geometry"),
    )


def _whole(value: Any) -> int | None:
    """An id or version as written, or None (a field app may have typed anything into it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
