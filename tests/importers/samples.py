"""Shared data for the import/export tests: the demo plus rows in Persian, Arabic and Greek, and a
comparison of two databases feature by feature (attributes and geometry)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from importers.demo import load_demo
from layers.catalogue import core_catalogue

FA = "کوچه شهید بهشتی"
AR = "شارع الملك فيصل"
EL = "Οδός Αθηνάς"
HOSTILE = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://x")'
SPATIAL = ("neighbourhoods", "parcels", "streets", "blighted_plots", "workshops", "service_points", "interventions")
LAYERS = (*SPATIAL, "assets")

MULTILINGUAL = """
INSERT INTO streets (name, name_latin, street_class, surface, lighting, width_m, note, geom) VALUES
  (%(fa)s, 'Koucheh', 'alley', 'earth', 'unlit', 4.5, %(hostile)s,
   'SRID=4326;MULTILINESTRING((24.9400001 60.1700002, 24.9410003 60.1710004))');
INSERT INTO service_points (name, category, provider, services, geom) VALUES
  (%(ar)s, 'mosque', %(ar)s, 'صلاة', 'SRID=4326;POINT(24.9450123456789 60.1720987654321)');
INSERT INTO workshops (name, kind, polluting, pollutants, licence, status, employees, note, geom) VALUES
  (%(el)s, 'metal', true, ARRAY['noise', 'dust'], 'expired', 'sealed', 7, %(formula)s,
   'SRID=4326;POINT(24.946 60.171)');
INSERT INTO assets (kind, condition, installed_on, note, geom) VALUES
  ('speed_bump', 'good', '2025-03-21', %(fa)s, 'SRID=4326;POINT(24.947 60.172)');
INSERT INTO parcels (parcel_code, land_use, tenure, floors, address, geom) VALUES
  ('Π-17', 'mixed', 'customary_deed', 3, %(el)s,
   'SRID=4326;MULTIPOLYGON(((24.94 60.17, 24.941 60.17, 24.941 60.171, 24.94 60.171, 24.94 60.17),
     (24.9402 60.1702, 24.9402 60.1705, 24.9405 60.1705, 24.9402 60.1702)))');
INSERT INTO blighted_plots (kind, hazard_level, safety_issues, status, owner, geom) VALUES
  ('dumping_site', 'critical', ARRAY['waste', 'fire'], 'secured', %(ar)s,
   'SRID=4326;MULTIPOLYGON(((24.942 60.172, 24.943 60.172, 24.943 60.173, 24.942 60.172)))');
INSERT INTO interventions (title, kind, status, unit, planned_quantity, planned_cost, planned_start, geom) VALUES
  (%(fa)s, 'speed_bump', 'approved', 'count', 1, 1200.5, '2026-05-01', 'SRID=4326;POINT(24.9471 60.1722)');
"""


def add_multilingual_rows(conn: psycopg.Connection) -> None:
    params = {"fa": FA, "ar": AR, "el": EL, "hostile": HOSTILE, "formula": FORMULA}
    for statement in filter(str.strip, MULTILINGUAL.split(";\n")):
        conn.execute(statement, params)


@contextmanager
def source_database(pg_server, template_db: str) -> Iterator[str]:
    """A database with the demo and the multilingual rows; dropped afterwards."""
    name = f"mahalle_src_{uuid.uuid4().hex[:12]}"
    url = pg_server.create(name, template=template_db)
    try:
        load_demo(url)
        with psycopg.connect(url, autocommit=True) as conn:
            add_multilingual_rows(conn)
        yield url
    finally:
        pg_server.drop(name)


def differences(src: psycopg.Connection, dst: psycopg.Connection, layer: str, key: str = "source_id") -> list[str]:
    """What differs between the features of ``layer`` in ``src`` and their import into ``dst`` (matched by
    the source's uid, kept as ``key`` in the import): missing rows, attributes, geometry."""
    attrs = core_catalogue()[layer].attribute_names
    cols = ", ".join(f'"{a}"' for a in attrs)
    before = {r[0]: r[1:] for r in src.execute(f"SELECT uid::text, {cols}, ST_AsBinary(geom) FROM {layer}")}
    after = {r[0]: r[1:] for r in dst.execute(f"SELECT {key}, {cols}, ST_AsBinary(geom) FROM {layer}")}
    out = [f"{layer}: {len(before)} features exported, {len(after)} imported"] if len(before) != len(after) else []
    for uid, values in before.items():
        if uid not in after:
            out.append(f"{layer} {uid}: missing")
            continue
        for name, a, b in zip(attrs, values[:-1], after[uid][:-1], strict=True):
            if a != b:
                out.append(f"{layer} {uid} {name}: {a!r} != {b!r}")
    return out + _geometry_differences(dst, layer, key, {uid: values[-1] for uid, values in before.items()})


def _geometry_differences(dst: psycopg.Connection, layer: str, key: str, wkb: dict[str, bytes]) -> list[str]:
    """Set-based: the exported geometries go into a temporary table next to the imported ones."""
    with dst.transaction():
        dst.execute("CREATE TEMP TABLE _expected (k text, wkb bytea) ON COMMIT DROP")
        with dst.cursor().copy("COPY _expected (k, wkb) FROM STDIN") as copy:
            for row in wkb.items():
                copy.write_row(row)
        rows = dst.execute(
            f"SELECT e.k FROM _expected e JOIN {layer} t ON t.{key} = e.k, "
            "LATERAL (SELECT ST_SetSRID(ST_GeomFromWKB(e.wkb), 4326) AS g) x "
            "WHERE NOT ST_Equals(t.geom, x.g) AND ST_HausdorffDistance(t.geom, x.g) >= 1e-9"
        ).fetchall()
    return [f"{layer} {k}: geometry differs" for (k,) in rows]
