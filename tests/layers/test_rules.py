"""The database refuses bad rows with a message naming the layer, the feature and the reason."""

from __future__ import annotations

import psycopg
import pytest

SQUARE = "POLYGON((24.94 60.17, 24.941 60.17, 24.941 60.1705, 24.94 60.1705, 24.94 60.17))"


def insert_parcel(conn: psycopg.Connection, wkt: str, **attrs: object) -> int:
    cols = ", ".join(["geom", *attrs])
    marks = ", ".join(["ST_GeomFromText(%s, 4326)", *["%s"] * len(attrs)])
    return conn.execute(
        f"INSERT INTO parcels ({cols}) VALUES ({marks}) RETURNING id", (wkt, *attrs.values())
    ).fetchone()[0]


def count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize(
    ("statement", "params", "fragment"),
    [
        (
            "INSERT INTO parcels (geom, tenure) VALUES (ST_GeomFromText(%s, 4326), 'freehold')",
            (SQUARE,),
            "tenure 'freehold' is not one of: registered_deed",
        ),
        (
            "INSERT INTO parcels (geom) VALUES (ST_GeomFromText(%s, 4326))",
            ("POLYGON((24.94 60.17, 24.941 60.1705, 24.941 60.17, 24.94 60.1705, 24.94 60.17))",),
            "the geometry is invalid: Self-intersection",
        ),
        (
            "INSERT INTO parcels (geom) VALUES (ST_GeomFromText(%s, 4326))",
            ("POINT(24.94 60.17)",),
            "a point does not fit this layer, which holds multipolygon geometries",
        ),
        (
            "INSERT INTO parcels (geom) VALUES (ST_GeomFromText(%s, 3857))",
            ("POLYGON((0 0, 10 0, 10 10, 0 0))",),
            "the geometry is in EPSG:3857",
        ),
        (
            "INSERT INTO workshops (kind, geom) VALUES ('scrap', %s::geometry)",
            ("SRID=4326;POINT(NaN 60)",),
            "coordinates must be longitude -180..180 and latitude -90..90",
        ),
        (
            "INSERT INTO workshops (kind, geom) VALUES ('scrap', ST_SetSRID(ST_MakePoint(%s, 60), 4326))",
            (float("inf"),),
            "coordinates must be longitude",
        ),
        (
            "INSERT INTO workshops (kind, geom) VALUES ('scrap', %s::geometry)",
            ("SRID=4326;POINT(60.17 124.9)",),
            "are longitude and latitude swapped",
        ),
        (
            "INSERT INTO workshops (kind, geom) VALUES ('scrap', %s::geometry)",
            ("SRID=4326;POINT(24.9 60.1 12)",),
            "has Z or M values",
        ),
        (
            "INSERT INTO workshops (kind, geom) VALUES ('scrap', %s::geometry)",
            ("SRID=4326;POINT EMPTY",),
            "the geometry is empty",
        ),
        ("INSERT INTO workshops (geom) VALUES (%s::geometry)", ("SRID=4326;POINT(24.9 60.1)",), "kind is required"),
        (
            "INSERT INTO workshops (kind, polluting, pollutants, geom) "
            "VALUES ('scrap', false, '{smoke}', %s::geometry)",
            ("SRID=4326;POINT(24.9 60.1)",),
            "pollutants are listed but the workshop is not marked as polluting",
        ),
        (
            "INSERT INTO workshops (kind, polluting, pollutants, geom) VALUES ('scrap', true, '{lead}', %s::geometry)",
            ("SRID=4326;POINT(24.9 60.1)",),
            "only these values are allowed",
        ),
        (
            "INSERT INTO interventions (title, kind, status, geom) VALUES ('x', 'paving', 'completed', %s::geometry)",
            ("SRID=4326;POINT(24.9 60.1)",),
            "a completed intervention needs its actual end date",
        ),
        (
            "INSERT INTO interventions (title, kind, geom) VALUES ('x', 'paving', %s::geometry)",
            ("SRID=4326;GEOMETRYCOLLECTION(POINT(24.9 60.1))",),
            "a geometrycollection does not fit",
        ),
        (
            "INSERT INTO parcels (geom, floors) VALUES (ST_GeomFromText(%s, 4326), -2)",
            (SQUARE,),
            "floors must be at least 0",
        ),
        (
            "INSERT INTO streets (geom) VALUES (ST_GeomFromText(%s, 4326))",
            ("LINESTRING(24.9 60.1)",),
            "geometry requires more points",
        ),
    ],
)
def test_bad_rows_are_refused_with_a_clear_message(conn, statement, params, fragment):
    table = statement.split()[2]
    with pytest.raises(psycopg.Error) as err:
        conn.execute(statement, params)
    message = str(err.value)
    assert fragment in message
    if "requires more points" not in message:  # PostGIS' own parser rejects a 1-point line before our trigger
        assert message.startswith(f"{table} new feature: ")  # not the id the sequence gave a row that never was
    assert count(conn, table) == 0
    assert count(conn, "mahalle.history") == 0


def test_a_rejected_row_leaves_nothing_of_its_statement(conn):
    with pytest.raises(psycopg.Error):
        conn.execute(
            "INSERT INTO parcels (geom, tenure) VALUES (ST_GeomFromText(%s, 4326), 'informal'), "
            "(ST_GeomFromText(%s, 4326), 'bogus')",
            (SQUARE, SQUARE),
        )
    assert count(conn, "parcels") == 0
    assert count(conn, "mahalle.history") == 0


def test_single_polygons_are_stored_as_multipolygons(conn):
    pid = insert_parcel(conn, SQUARE)
    assert conn.execute("SELECT GeometryType(geom) FROM parcels WHERE id = %s", (pid,)).fetchone()[0] == "MULTIPOLYGON"


def test_geometry_without_srid_is_taken_as_lon_lat(conn):
    conn.execute("INSERT INTO workshops (kind, geom) VALUES ('scrap', 'POINT(24.9 60.1)')")
    assert conn.execute("SELECT ST_SRID(geom) FROM workshops").fetchone()[0] == 4326


def test_constraints_still_hold_when_triggers_are_bypassed(admin_db_url):
    """A superuser replicating with triggers off still meets the CHECK constraints (of value lists, the shape of
    an entry: whether it is one the office keeps is the validation trigger's to say, as a CHECK cannot read the
    list)."""
    conn = psycopg.connect(admin_db_url, autocommit=True)
    conn.execute("SET session_replication_role = replica")
    with pytest.raises(psycopg.errors.CheckViolation, match="parcels_tenure_value_format"):
        conn.execute("INSERT INTO parcels (geom, tenure) VALUES (ST_Multi(ST_GeomFromText(%s, 4326)), 'No deed!')",
                     (SQUARE,))  # fmt: skip
    with pytest.raises(psycopg.errors.CheckViolation, match="enforce_geotype_geom"):
        conn.execute("INSERT INTO parcels (geom) VALUES (ST_GeomFromText('POINT(24.9 60.1)', 4326))")


def test_qgis_sees_geometry_type_and_srid(conn):
    rows = dict(
        (name, (gtype, srid))
        for name, gtype, srid in conn.execute("SELECT f_table_name, type, srid FROM geometry_columns").fetchall()
    )
    assert rows["parcels"] == ("MULTIPOLYGON", 4326)
    assert rows["streets"] == ("MULTILINESTRING", 4326)
    assert rows["workshops"] == ("POINT", 4326)
    assert "tasks" not in rows


def test_links_to_missing_features_are_refused(conn):
    iid = conn.execute(
        "INSERT INTO interventions (title, kind, geom) VALUES ('Pave', 'paving', "
        "'SRID=4326;POINT(24.9 60.1)') RETURNING id"
    ).fetchone()[0]
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="intervention_targets: streets feature 999 does not"):
        conn.execute(
            "INSERT INTO intervention_targets (intervention_id, layer, feature_id) VALUES (%s, 'streets', 999)", (iid,)
        )
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="there is no layer named 'roads'"):
        conn.execute(
            "INSERT INTO intervention_targets (intervention_id, layer, feature_id) VALUES (%s, 'roads', 1)", (iid,)
        )
    tid = conn.execute(
        "INSERT INTO tasks (title, domain) VALUES ('Pave lanes', 'urban_physical') RETURNING id"
    ).fetchone()[0]
    conn.execute("INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'interventions', %s)", (tid, iid))
    ops = conn.execute("SELECT layer, operation FROM mahalle.history ORDER BY id").fetchall()
    assert ops == [("interventions", "INSERT"), ("tasks", "INSERT"), ("task_links", "INSERT")]


def test_deleting_an_intervention_with_installed_assets_is_refused(conn):
    iid = conn.execute(
        "INSERT INTO interventions (title, kind, geom) VALUES ('Lights', 'lighting', "
        "'SRID=4326;POINT(24.9 60.1)') RETURNING id"
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO assets (kind, intervention_id, geom) VALUES ('street_light', %s, 'SRID=4326;POINT(24.9 60.1)')",
        (iid,),
    )
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("DELETE FROM interventions WHERE id = %s", (iid,))
    assert count(conn, "interventions") == 1
