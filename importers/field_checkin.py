"""A checkout edited in QField, Mergin Maps or QGIS, applied back by ``uid`` (the file's format: gis/field_checkout.py).

What the field did is worked out against the checkout's baseline (each row's uid, version and hash as written):

- a row whose hash differs from its baseline was **updated** in the field;
- a baseline uid missing from the file was **deleted** in the field;
- a row with no uid, or a uid the baseline does not know, was **added** in the field. A row without uid gets one
  derived from the checkout, the layer and its GeoPackage fid (uuid5), so a second check-in finds it again.

Server edits made since the checkout are never overwritten: a change to a row whose server version is no longer the
baseline version is a **conflict** (unless the server already holds exactly the field's values: then it is
*unchanged*), so is a delete of a row changed on the server, and an edit of a row deleted on the server. Conflicts
are kept for the planners' review queue (``layers.field_changes.record_conflict``).

Everything runs in one transaction, each row in a savepoint of its own: a row the database refuses (a rule, the
user's roles, a bad value) is rolled back alone and reported with the database's reason; the rest is committed
together at the end. Every change applied or found in conflict is kept in ``public.field_changes`` under a change id
derived from the checkout, the layer, the uid and what the row says, so checking the same file in again applies
nothing twice and records no conflict twice. A file that cannot be checked in (not a GeoPackage, not a checkout,
a layer the server does not know) changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pyogrio
import shapely
from psycopg import sql

from core.crs import STORAGE
from core.db import attributed
from core.errors import Forbidden, MahalleError, NotFound, PreconditionFailed
from gis.features import get_item
from gis.field_checkout import BASELINE_TABLE, CHECKOUT_TABLE, FORMAT, CheckoutInfo, FileRow, read_rows
from importers.files import FileProblem
from layers import edit, field_changes
from layers.catalogue import Catalogue
from layers.spec import Layer

SOURCE = "geopackage"
STATUSES = ("inserted", "updated", "deleted", "unchanged", "conflict", "refused", "resolved")
WRITE_ACTIONS = ["create", "edit", "field", "delete"]


class CheckinProblem(FileProblem):
    """The file cannot be checked in as it is (nothing was changed); the message says why."""


@dataclass(frozen=True)
class Base:
    """A row as it was checked out."""

    fid: int
    feature_id: int
    version: int
    sha256: str
    values: dict[str, Any]  # the attributes as JSON values
    geometry_sha256: str | None


@dataclass(frozen=True)
class Server:
    """A row as the server holds it now."""

    id: int
    version: int
    neighbourhood_id: int | None


@dataclass
class Checkout:
    """What a checked-out file holds, read and checked before anything is written."""

    info: CheckoutInfo
    layers: list[Layer]
    baseline: dict[str, dict[str, Base]]  # layer → uid → row as checked out
    rows: dict[str, list[FileRow]]  # layer → rows as the file holds them now


@dataclass
class RowResult:
    layer: str
    op: str  # what the field did: insert, update, delete
    status: str  # one of STATUSES
    uid: str | None
    fid: int | None = None  # the row in the GeoPackage
    id: int | None = None  # the feature on the server
    version: int | None = None
    message: str | None = None
    property: str | None = None
    conflict_id: int | None = None


@dataclass
class CheckinReport:
    checkout: str
    neighbourhood: str
    file: str
    rows: list[RowResult] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self, layer: str | None = None) -> dict[str, int]:
        seen = Counter(r.status for r in self.rows if layer is None or r.layer == layer)
        return {status: seen[status] for status in STATUSES}

    def layer_names(self) -> list[str]:
        return list(dict.fromkeys(r.layer for r in self.rows))

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{c['inserted']} inserted, {c['updated']} updated, {c['deleted']} deleted, {c['unchanged']} unchanged, "
            f"{c['conflict']} {'conflict' if c['conflict'] == 1 else 'conflicts'} for review, {c['refused']} refused"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "checkout": self.checkout, "neighbourhood": self.neighbourhood, "file": self.file, **self.counts(),
            "layers": {name: self.counts(name) for name in self.layer_names()},
            "rows": [asdict(r) for r in self.rows], "seconds": self.seconds, "summary": self.summary(),
        }  # fmt: skip


# Reading the file (nothing is written before it has all been read) ---------------------------------------


def open_checkout(path: Path, catalogue: Catalogue, name: str | None = None) -> Checkout:
    """The checkout in ``path``, or CheckinProblem saying why it cannot be checked in."""
    name = name or path.name
    info, baseline = _read_tables(path, name)
    layers = []
    for layer_name in info.layers:
        if layer_name not in catalogue:
            raise CheckinProblem(f"{name} holds the layer {layer_name!r}, which this server does not know.")
        layers.append(catalogue[layer_name])
    rows = {layer.name: _layer_rows(path, name, layer.name, info.fields.get(layer.name, [])) for layer in layers}
    return Checkout(info, layers, baseline, rows)


def _read_tables(path: Path, name: str) -> tuple[CheckoutInfo, dict[str, dict[str, Base]]]:
    with path.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise CheckinProblem(f"{name} is not a GeoPackage; check in the .gpkg file made by a checkout.")
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "gpkg_contents" not in tables:
            raise CheckinProblem(f"{name} is an SQLite database but not a GeoPackage.")
        if CHECKOUT_TABLE not in tables or BASELINE_TABLE not in tables:
            raise CheckinProblem(
                f"{name} is a GeoPackage but not a Mahalle checkout (it has no {CHECKOUT_TABLE} table); "
                "make one with `mahalle field checkout` or GET /field/checkout."
            )
        return _info(db, name), _baseline(db)
    except sqlite3.DatabaseError as exc:  # a damaged file, or tables that are not what a checkout writes
        raise CheckinProblem(f"{name} cannot be read as a Mahalle checkout ({exc}).") from None
    finally:
        db.close()


def _info(db: sqlite3.Connection, name: str) -> CheckoutInfo:
    rows = db.execute(
        f"SELECT checkout_id, format, neighbourhood, layers, fields, created_at, created_by, server_url "  # noqa: S608
        f"FROM {CHECKOUT_TABLE}"
    ).fetchall()
    if len(rows) != 1:
        raise CheckinProblem(f"{name}: its {CHECKOUT_TABLE} table should hold one row, not {len(rows)}.")
    cid, fmt, hood, layers, fields, created_at, created_by, server_url = rows[0]
    if not isinstance(fmt, int) or fmt > FORMAT:
        raise CheckinProblem(f"{name} was checked out in a newer format ({fmt}); update Mahalle to check it in.")
    try:
        checkout_id, layer_names, field_names = uuid.UUID(str(cid)), json.loads(layers), json.loads(fields)
    except (ValueError, TypeError):
        raise CheckinProblem(f"{name}: its {CHECKOUT_TABLE} table has been damaged.") from None
    if not _is_str_list(layer_names) or not isinstance(field_names, dict):
        raise CheckinProblem(f"{name}: its {CHECKOUT_TABLE} table has been damaged.")
    return CheckoutInfo(checkout_id, str(hood), layer_names, field_names, str(created_at), created_by, server_url, fmt)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _baseline(db: sqlite3.Connection) -> dict[str, dict[str, Base]]:
    out: dict[str, dict[str, Base]] = {}
    query = (
        f"SELECT layer, uid, row_fid, feature_id, version, sha256, attributes, geometry_sha256 FROM {BASELINE_TABLE}"  # noqa: S608
    )
    for layer, uid, fid, feature_id, version, sha, values, geometry_sha in db.execute(query):
        base = Base(fid, feature_id, version, sha, json.loads(values), geometry_sha)
        out.setdefault(layer, {})[str(uuid.UUID(uid))] = base
    return out


def _layer_rows(path: Path, name: str, table: str, attributes: list[str]) -> list[FileRow]:
    """The layer's rows, after checking its table still has what the checkout wrote."""
    try:
        meta = pyogrio.read_info(path, layer=table)
        missing = [c for c in ("uid", *attributes) if c not in list(meta["fields"])]
        if missing:
            raise CheckinProblem(
                f"{name}: the table {table} has lost its column(s) {', '.join(missing)}; "
                "check in a file with the columns it was checked out with."
            )
        if meta["crs"] != "EPSG:4326":
            raise CheckinProblem(f"{name}: the table {table} is in {meta['crs']}, not in EPSG:4326 as checked out.")
        return list(read_rows(path, table, attributes))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise CheckinProblem(f"{name}: the table {table} cannot be read ({exc}).") from None


# Applying it ------------------------------------------------------------------------------------------


@dataclass
class _Run:
    """One check-in under way: the connection, who, and the report being filled."""

    conn: psycopg.Connection
    actor: str
    checkout: Checkout
    report: CheckinReport

    @property
    def cause(self) -> str:
        return f"field check-in of {self.checkout.info.id}"


def checkin(
    conn: psycopg.Connection, catalogue: Catalogue, path: Path, actor: str, *, name: str | None = None
) -> CheckinReport:
    """Apply the field's changes in ``path``; what happened to each changed row."""
    started = time.monotonic()
    checkout = open_checkout(path, catalogue, name)
    report = CheckinReport(str(checkout.info.id), checkout.info.neighbourhood, name or path.name)
    run = _Run(conn, actor, checkout, report)
    with attributed(conn, actor, cause=run.cause):  # one transaction; every row has its own savepoint in it
        _check_may_write(conn, checkout.layers)
        for layer in checkout.layers:
            _apply_layer(run, layer)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _check_may_write(conn: psycopg.Connection, layers: list[Layer]) -> None:
    """Refuse at once a user who may change none of the layers anywhere (a viewer), rather than every row."""
    row = conn.execute(
        "SELECT bool_or(coalesce(cardinality(mahalle.scope(a, l)) > 0, true)) FROM unnest(%s::text[]) l, "
        "unnest(%s::text[]) a",
        [[layer.name for layer in layers], WRITE_ACTIONS],
    ).fetchone()
    if layers and not row[0]:
        names = ", ".join(layer.name for layer in layers)
        raise Forbidden(f"your roles do not allow you to change {names} anywhere; nothing was checked in")


def _apply_layer(run: _Run, layer: Layer) -> None:
    base = run.checkout.baseline.get(layer.name, {})
    keyed, kept = _key_rows(run, layer, run.checkout.rows[layer.name], base)
    server = _server_rows(run.conn, layer, [*base, *keyed])
    # Deletes first: a row the field removed may free a unique value a row it added takes.
    for uid in [u for u in base if u not in keyed and u not in kept]:
        _add(run, _delete(run, layer, uid, base[uid], server.get(uid)))
    for uid, row in keyed.items():
        if uid in base and row.sha256 == base[uid].sha256:
            continue  # untouched in the field
        if uid in base:
            _add(run, _update(run, layer, uid, row, base[uid], server.get(uid)))
        else:
            _add(run, _insert(run, layer, uid, row, server.get(uid)))


def _add(run: _Run, result: RowResult | None) -> None:
    if result is not None:
        run.report.rows.append(result)


def _key_rows(
    run: _Run, layer: Layer, rows: list[FileRow], base: dict[str, Base]
) -> tuple[dict[str, FileRow], set[str]]:
    """The rows by uid, and the baseline uids whose row is there under a uid typed over (refused, never deleted).

    Of rows sharing a uid (a copied row) the one checked out keeps it; the others, and rows without uid, get one
    derived from the checkout and their fid. GeoPackage fids are never reused, so a checked-out row is known by its
    fid even when its uid was edited."""
    by_fid = {b.fid: uid for uid, b in base.items()}
    groups: dict[str | None, list[FileRow]] = {}
    kept: set[str] = set()
    for row in sorted(rows, key=lambda r: r.fid):
        uid, was = _uid(row.uid), by_fid.get(row.fid)
        if was is not None and uid != was:  # a checked-out row whose uid was cleared or typed over
            kept.add(was)
            now = repr(row.uid) if row.uid else "nothing"
            _refuse_uid(run, layer, row, base[was].feature_id, f"its uid was changed from {was} to {now}")
        elif uid is None and row.uid:
            _refuse_uid(run, layer, row, None, f"its uid {row.uid!r} is not a UUID (leave it empty on a new row)")
        else:
            groups.setdefault(uid, []).append(row)
    keyed: dict[str, FileRow] = {}
    for uid, group in groups.items():
        keeper = None
        if uid is not None:
            keeper = next((r for r in group if uid in base and r.fid == base[uid].fid), group[0])
            keyed[uid] = keeper
        for row in group:
            if row is not keeper:
                keyed[str(uuid.uuid5(run.checkout.info.id, f"{layer.name}/{row.fid}"))] = row
    return keyed, kept


def _refuse_uid(run: _Run, layer: Layer, row: FileRow, feature_id: int | None, why: str) -> None:
    message = f"{why}; a row's uid must not be edited, and nothing of this row was checked in"
    _add(run, RowResult(layer.name, "update", "refused", row.uid, row.fid, feature_id, message=message,
                        property="uid"))  # fmt: skip


def _uid(text: str | None) -> str | None:
    """A uid in its canonical form; None when there is none or it is not a UUID."""
    try:
        return str(uuid.UUID(text)) if text else None
    except ValueError:
        return None


def _server_rows(conn: psycopg.Connection, layer: Layer, uids: list[str]) -> dict[str, Server]:
    """The server's id, version and neighbourhood of these uids (those the user may read)."""
    hood = sql.SQL("t.id" if layer.name == "neighbourhoods" else "t.neighbourhood_id" if layer.neighbourhood_scoped
                   else "NULL::bigint")  # fmt: skip
    rows = conn.execute(
        sql.SQL("SELECT t.uid::text, t.id, t.version, {} FROM public.{} t WHERE t.uid = ANY(%s::uuid[])").format(
            hood, sql.Identifier(layer.name)
        ),
        [uids],
    ).fetchall()
    return {uid: Server(fid, version, nid) for uid, fid, version, nid in rows}


# One row each: what the field did, against what the server holds now --------------------------------------


def _delete(run: _Run, layer: Layer, uid: str, base: Base, server: Server | None) -> RowResult:
    result = RowResult(layer.name, "delete", "unchanged", uid, base.fid, base.feature_id)
    payload = {"op": "delete", "layer": layer.name, "uid": uid}
    change = _change_id(run, layer, uid, "deleted")
    if (earlier := _earlier(run, change, payload, result)) is not None:
        return earlier
    if server is None:
        result.message = "already deleted on the server"
        return result
    if server.version != base.version:
        return _conflict(run, layer, result, change, payload, base, server,
                         "the field deleted it, and it was changed on the server since the checkout")  # fmt: skip

    def write() -> None:
        edit.delete(run.conn, layer, server.id, base.version)

    return _write(run, layer, result, change, payload, base, server, write, "deleted")


def _update(run: _Run, layer: Layer, uid: str, row: FileRow, base: Base, server: Server | None) -> RowResult:
    result = RowResult(layer.name, "update", "unchanged", uid, row.fid, base.feature_id)
    payload, change = _payload(layer, "update", uid, row, base), _change_id(run, layer, uid, row.sha256)
    if (earlier := _earlier(run, change, payload, result)) is not None:
        return earlier
    if server is None:
        return _conflict(run, layer, result, change, payload, base, None,
                         "the field changed it, and it was deleted on the server since the checkout")  # fmt: skip
    if server.version != base.version:
        if _server_holds(run, layer, server, payload):
            result.version, result.message = server.version, "the server already holds these values"
            return result
        return _conflict(run, layer, result, change, payload, base, server,
                         f"the field changed it, and it was changed on the server since the checkout "
                         f"(version {base.version}, now {server.version})")  # fmt: skip

    def write() -> None:
        data = edit.parse_feature(layer, _feature(payload), patch=True)
        result.version = edit.patch(run.conn, layer, server.id, data, base.version, STORAGE)

    done = _write(run, layer, result, change, payload, base, server, write, "updated")
    if done.status == "updated" and done.version == base.version:  # the database found nothing to change
        done.status, done.message = "unchanged", "the server already holds these values"
    return done


def _insert(run: _Run, layer: Layer, uid: str, row: FileRow, server: Server | None) -> RowResult:
    result = RowResult(layer.name, "insert", "unchanged", uid, row.fid)
    payload, change = _payload(layer, "insert", uid, row), _change_id(run, layer, uid, row.sha256)
    if (earlier := _earlier(run, change, payload, result)) is not None:
        return earlier
    if server is not None:  # a uid the server knows, though not from this checkout
        result.id = server.id
        if _server_holds(run, layer, server, payload):
            result.version, result.message = server.version, "the server already holds this feature"
            return result
        return _conflict(run, layer, result, change, payload, None, server,
                         "the field added a feature whose uid the server already has, with other values")  # fmt: skip

    def write() -> None:
        body = _feature(payload)
        body["properties"]["uid"] = uid
        result.id, result.version, _ = edit.create(run.conn, layer, edit.parse_feature(layer, body), STORAGE)

    return _write(run, layer, result, change, payload, None, None, write, "inserted")


def _write(run: _Run, layer: Layer, result: RowResult, change: uuid.UUID, payload: dict[str, Any],
           base: Base | None, server: Server | None, write: Any, status: str) -> RowResult:  # fmt: skip
    """Apply one change in a savepoint, and keep it as applied; a refusal rolls back this row alone."""
    try:
        with attributed(run.conn, run.actor, cause=run.cause):
            write()
            where = server or _server_rows(run.conn, layer, [str(result.uid)]).get(str(result.uid))
            field_changes.record(
                run.conn, uid=change, source=SOURCE, op=_OPS[result.op], layer=layer.name, payload=payload,
                state="applied", feature_id=result.id, feature_uid=uuid.UUID(result.uid),
                base_version=base.version if base else None,
                neighbourhood_id=where.neighbourhood_id if where else None,
                result={"status": status, "id": result.id, "version": result.version},
            )  # fmt: skip
    except PreconditionFailed:  # changed on the server between the look and the write
        now = _server_rows(run.conn, layer, [str(result.uid)]).get(str(result.uid))
        return _conflict(run, layer, result, change, payload, base, now,
                         "it was changed on the server while checking in")  # fmt: skip
    except MahalleError as exc:
        result.status, result.message = "refused", str(exc)
        result.property = getattr(exc, "column", None)
        return result
    result.status = status
    return result


def _server_holds(run: _Run, layer: Layer, server: Server, payload: dict[str, Any]) -> bool:
    """Whether the server already holds exactly the field's values: the database's own comparison (an update that
    changes nothing keeps the version), tried and rolled back (``layers.edit.probe``)."""
    try:
        with attributed(run.conn, run.actor, cause=run.cause):
            data = edit.parse_feature(layer, _feature(payload), patch=True)
            return edit.probe(run.conn, layer, server.id, data, server.version) == server.version
    except MahalleError:  # refused or stale: the values differ (or may not be written by this user)
        return False


def _conflict(run: _Run, layer: Layer, result: RowResult, change: uuid.UUID, payload: dict[str, Any],
              base: Base | None, server: Server | None, why: str) -> RowResult:  # fmt: skip
    """Keep the change for a planner (once, whatever the number of check-ins) and report it."""
    feature = _feature_now(run, layer, server)
    fid = server.id if server else result.id
    message = f"conflict: {layer.name} feature {fid or result.uid}: {why}; nothing was changed, a planner decides"
    result.status, result.message, result.id = "conflict", message, fid
    result.version = server.version if server else None
    result.conflict_id = field_changes.record_conflict(
        run.conn, uid=change, source=SOURCE, op=_OPS[result.op], layer=layer.name, feature_id=fid,
        base_version=base.version if base else None, payload=payload, server=feature, message=message,
    )  # fmt: skip
    return result


def _feature_now(run: _Run, layer: Layer, server: Server | None) -> dict[str, Any] | None:
    """The server's feature as GeoJSON for the review queue; None when it is gone (deleted a moment ago, too)."""
    if server is None:
        return None
    try:
        return json.loads(get_item(run.conn, layer, server.id)[0])
    except NotFound:
        return None


def _earlier(run: _Run, change: uuid.UUID, payload: dict[str, Any], result: RowResult) -> RowResult | None:
    """The outcome of this very change at an earlier check-in (of this file or a copy), if there was one."""
    seen = field_changes.seen(run.conn, change, payload)
    if seen is None:
        return None
    if seen.state == "conflict":
        row = field_changes.get(run.conn, seen.id)
        result.status, result.message, result.conflict_id = "conflict", row["message"], seen.id
        result.id = row["feature_id"]
    elif seen.state == "applied":
        result.id = (seen.result or {}).get("id", result.id)
        result.message = "checked in before"
    elif seen.state in ("kept_field", "kept_server"):
        kept = "the field's values" if seen.state == "kept_field" else "the server's values"
        result.status, result.conflict_id = "resolved", seen.id
        result.message = f"a conflict over this change was resolved by a planner, who kept {kept}"
    else:
        return None
    return result


_OPS = {"insert": "create", "update": "update", "delete": "delete"}


def _change_id(run: _Run, layer: Layer, uid: str, what: str) -> uuid.UUID:
    """One id per change: this checkout, this layer and uid, and what the row says (or that it was deleted)."""
    return uuid.uuid5(run.checkout.info.id, f"{layer.name}/{uid}/{what}")


# A row of the file as a feature ------------------------------------------------------------------------


def _payload(layer: Layer, op: str, uid: str, row: FileRow, base: Base | None = None) -> dict[str, Any]:
    """What the field sent, as the review queue shows it: a new row's attributes and geometry (GeoJSON); of a changed
    row only what differs from the checkout, so nothing the field left alone is ever written back over the server."""
    types = {a.name: a.type for a in layer.attributes}
    plain = row.plain_values
    changed = [n for n in row.values if n in types and (base is None or plain[n] != base.values.get(n))]
    payload = {"op": op, "layer": layer.name, "uid": uid, "fid": row.fid,
               "properties": {n: _value(types[n], row.values[n]) for n in changed}}  # fmt: skip
    if base is None or row.geometry_sha256 != base.geometry_sha256:
        payload["geometry"] = _geometry(row.wkb)
    return payload


def _feature(payload: dict[str, Any]) -> dict[str, Any]:
    body = {"type": "Feature", "properties": dict(payload["properties"])}
    if "geometry" in payload:  # a patch without it leaves the geometry alone
        body["geometry"] = payload["geometry"]
    return body


def _geometry(wkb: bytes | None) -> dict[str, Any] | None:
    """GeoJSON with every coordinate as exact as the file's (Python writes the shortest exact decimal), 2D: a
    field app may add the GPS height, which the layers do not keep."""
    if wkb is None:
        return None
    shape = shapely.force_2d(shapely.from_wkb(wkb))
    return json.loads(json.dumps(shapely.geometry.mapping(shape)))  # tuples → lists, as GeoJSON checks want


def _value(kind: str, value: Any) -> Any:
    """A file's value as the JSON a feature's property takes (``edit.check_value`` then checks it)."""
    if value is None or (value == "" and kind != "text"):
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    if kind == "choices" and isinstance(value, str):  # written joined by ';' (gis/export/values.py)
        return [v.strip() for v in value.split(";") if v.strip()]
    if kind in ("integer", "reference") and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "boolean" and isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value
