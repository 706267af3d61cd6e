"""A small place for the GeoPackage round trip tests: two neighbourhoods side by side, workshops in each, a street
and a parcel of the south crossing into the north; and GDAL's command-line tools as the "field app" that edits a
checkout."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import psycopg

NORTH, SOUTH = "FLD-NORTH", "FLD-SOUTH"
LAYERS = ["workshops", "streets"]
# name, kind, polluting, pollutants, licence, status, employees, note, lon, lat: A-E in the north, S in the south
WORKSHOPS = [
    ("Yard A", "scrap", True, ["noise", "dust"], "unlicensed", "active", 4, "by the canal", 24.905, 60.165),
    ("Yard B", "metal", False, None, "licensed", "warned", None, None, 24.910, 60.166),
    ("Yard C", "carpentry", False, None, "unknown", "active", 2, "نجاری", 24.915, 60.167),
    ("Yard D", "auto_repair", False, None, "licensed", "active", 6, None, 24.912, 60.163),
    ("Yard E", "recycling", True, ["waste"], "expired", "warned", 3, None, 24.918, 60.162),
    ("Yard S", "scrap", True, ["smoke"], "expired", "active", 9, None, 24.910, 60.155),
]


def make_place(conn: psycopg.Connection) -> dict[str, int]:
    """The neighbourhoods (their ids by code) and their features, written as the server itself."""
    conn.execute(
        "INSERT INTO neighbourhoods (code, name, city, geom) VALUES "
        "(%s, 'North quarter', 'Testville', ST_Multi(ST_MakeEnvelope(24.90, 60.16, 24.92, 60.17, 4326))), "
        "(%s, 'South quarter', 'Testville', ST_Multi(ST_MakeEnvelope(24.90, 60.15, 24.92, 60.16, 4326)))",
        [NORTH, SOUTH],
    )
    point = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
    for name, kind, polluting, pollutants, licence, status, employees, note, lon, lat in WORKSHOPS:
        conn.execute(
            "INSERT INTO workshops (name, kind, polluting, pollutants, licence, status, employees, note, geom) "
            f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, {point})",
            [name, kind, polluting, pollutants, licence, status, employees, note, lon, lat],
        )
    conn.execute(
        "INSERT INTO streets (name, street_class, surface, lighting, sidewalk, width_m, geom) VALUES "
        "('North lane', 'alley', 'earth', 'unlit', 'none', 3.5, "
        " ST_Multi(ST_GeomFromText('LINESTRING(24.901 60.168, 24.919 60.168)', 4326))), "
        "('Border street', 'local', 'asphalt', 'lit', 'both', 8, "
        " ST_Multi(ST_GeomFromText('LINESTRING(24.911 60.151, 24.911 60.155, 24.911 60.161)', 4326)))"
    )
    conn.execute(  # parcels are not public: each user reads those of their neighbourhoods
        "INSERT INTO parcels (parcel_code, geom) VALUES "
        "('P-NORTH', ST_Multi(ST_MakeEnvelope(24.903, 60.162, 24.904, 60.163, 4326))), "
        "('P-BORDER', ST_Multi(ST_MakeEnvelope(24.903, 60.156, 24.906, 60.161, 4326)))"
    )
    return dict(conn.execute("SELECT code, id FROM neighbourhoods WHERE code IN (%s, %s)", [NORTH, SOUTH]).fetchall())


def act_as(conn: psycopg.Connection, user: str, roles: dict[str, list[int] | None]) -> psycopg.Connection:
    """Bind the connection to a user's roles, as the app does for a request (api/identity/principal.py)."""
    conn.execute("SELECT set_config('mahalle.grants', %s, false)", [json.dumps({"user": user, "roles": roles})])
    return conn


def gdal(*args: str | Path) -> str:
    """Run one of GDAL's tools (ogrinfo, ogr2ogr): the field app."""
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def sql_in(path: Path, statement: str) -> None:
    """Edit the GeoPackage with ogrinfo's SQL, as a field app would (GDAL, not our code)."""
    gdal("ogrinfo", path, "-sql", statement, "-q")


def append_from_geojson(path: Path, layer: str, features: list[dict], tmp: Path) -> None:
    """Add rows with ``ogr2ogr -append`` (a field app adding features)."""
    source = tmp / f"new-{layer}.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    gdal("ogr2ogr", "-append", "-nln", layer, path, source)


def file_rows(path: Path, query: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()
