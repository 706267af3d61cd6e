"""CQL2 text → SQL with bind parameters, run against real PostGIS rows."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from api.problems import status_of
from gis import cql2
from gis.cql2 import FilterError, filter_sql, layer_properties
from layers.catalogue import core_catalogue

CATALOGUE = core_catalogue()


@pytest.fixture(scope="module")
def db(pg_server, template_db):
    """One database for the module: the tests only read it."""
    name = f"mahalle_cql_{uuid.uuid4().hex[:12]}"
    url = pg_server.create(name, template=template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        _fill(conn)
        yield conn
    pg_server.drop(name)


def _fill(conn) -> None:
    conn.execute(
        """
        INSERT INTO streets (name, street_class, surface, width_m, geom) VALUES
          ('Alpha', 'local', 'earth', 4, 'SRID=4326;MULTILINESTRING((24.9400 60.1700, 24.9410 60.1700))'),
          ('Beta', 'alley', 'asphalt', 2.5, 'SRID=4326;MULTILINESTRING((24.9500 60.1800, 24.9510 60.1800))'),
          (NULL, 'service', 'gravel', NULL, 'SRID=4326;MULTILINESTRING((25.0000 60.2000, 25.0010 60.2000))'),
          ('it''s', 'local', 'unknown', 8, 'SRID=4326;MULTILINESTRING((24.9400 60.1710, 24.9410 60.1710))');
        INSERT INTO assets (kind, installed_on, geom) VALUES
          ('tree', '2024-01-10', 'SRID=4326;POINT(24.9405 60.1700)'),
          ('bench', '2025-06-01', 'SRID=4326;POINT(24.9505 60.1800)'),
          ('bin', NULL, 'SRID=4326;POINT(25.0005 60.2000)');
        INSERT INTO blighted_plots (kind, safety_issues, geom) VALUES
          ('vacant_lot', ARRAY['waste', 'fire'],
           'SRID=4326;MULTIPOLYGON(((24.939 60.169, 24.942 60.169, 24.942 60.172, 24.939 60.172, 24.939 60.169)))');
        """
    )


def ids(conn, layer: str, text: str) -> list:
    where, params = filter_sql(text, layer_properties(CATALOGUE[layer]))
    label = "name" if layer == "streets" else "kind"
    query = sql.SQL("SELECT {} FROM public.{} t WHERE {} ORDER BY t.id").format(
        sql.Identifier(label), sql.Identifier(layer), where
    )
    return [r[0] for r in conn.execute(query, params)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("surface = 'earth'", ["Alpha"]),
        ("surface <> 'earth' AND width_m >= 2.5", ["Beta", "it's"]),
        ("width_m > 3 OR street_class = 'alley'", ["Alpha", "Beta", "it's"]),
        ("NOT (surface = 'earth' OR surface = 'asphalt')", [None, "it's"]),
        ("name LIKE 'A%'", ["Alpha"]),
        ("CASEI(name) LIKE 'b%'", ["Beta"]),
        ("surface IN ('gravel', 'asphalt')", ["Beta", None]),
        ("surface NOT IN ('gravel', 'asphalt', 'unknown')", ["Alpha"]),
        ("width_m BETWEEN 3 AND 8", ["Alpha", "it's"]),
        ("name IS NULL", [None]),
        ("width_m IS NOT NULL AND name = 'it''s'", ["it's"]),
        ("length_m > 50", ["Alpha", "Beta", None, "it's"]),
        (
            "S_INTERSECTS(geom, POLYGON((24.945 60.175, 24.96 60.175, 24.96 60.19, 24.945 60.19, 24.945 60.175)))",
            ["Beta"],
        ),
        ("S_WITHIN(geom, BBOX(24.93, 60.16, 24.945, 60.175))", ["Alpha", "it's"]),
        ("S_DWITHIN(geom, POINT(24.9405 60.1705), 60, meters)", ["Alpha", "it's"]),
        ("S_DWITHIN(geom, POINT(24.9405 60.1705), 0.06, kilometers)", ["Alpha", "it's"]),
        ("S_DWITHIN(geom, POINT(24.9405 60.1705), 40)", []),
    ],
)
def test_streets(db, text, expected):
    assert ids(db, "streets", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("T_AFTER(installed_on, DATE('2024-06-01'))", ["bench"]),
        ("T_BEFORE(installed_on, DATE('2024-06-01'))", ["tree"]),
        ("T_DURING(installed_on, INTERVAL('2024-01-01', '2024-12-31'))", ["tree"]),
        ("T_AFTER(updated_at, TIMESTAMP('2000-01-01T00:00:00Z'))", ["tree", "bench", "bin"]),
        ("installed_on T_BEFORE DATE('2030-01-01') AND kind <> 'tree'", ["bench"]),
        ("S_CONTAINS(geom, POINT(24.9505 60.1800))", ["bench"]),
    ],
)
def test_assets(db, text, expected):
    assert ids(db, "assets", text) == expected


def test_value_lists_match_an_element(db):
    assert ids(db, "blighted_plots", "safety_issues = 'fire'") == ["vacant_lot"]
    assert ids(db, "blighted_plots", "safety_issues <> 'fire'") == []
    assert ids(db, "blighted_plots", "S_CONTAINS(geom, POINT(24.9405 60.1705))") == ["vacant_lot"]


def test_values_are_bound_not_spliced(db):
    where, params = filter_sql("name = 'x'' OR 1=1 --'", layer_properties(CATALOGUE["streets"]))
    assert params == ["x' OR 1=1 --"]
    assert "OR 1=1" not in where.as_string(db)
    assert ids(db, "streets", "name = 'x'' OR 1=1 --'") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'red'", "'colour', which is not a property here"),
        ('"x--" = 1', "not a property here"),
        ("width_m = 'wide'", "cannot be compared with a number property"),
        ("surface = 3", "cannot be compared with a choice property"),
        ("name > ", "not valid CQL2"),
        ("T_AFTER(name, DATE('2020-01-01'))", "needs a date or datetime property"),
        ("S_INTERSECTS(name, POINT(1 2))", "not a geometry property"),
        ("geom = 1", "is a geometry"),
        ("S_DWITHIN(geom, POINT(1 2), 5, parsecs)", "Unknown distance unit"),
        ("", "empty"),
    ],
)
def test_bad_filters_are_clear_400s(text, message):
    with pytest.raises(FilterError, match=message) as info:
        filter_sql(text, layer_properties(CATALOGUE["streets"]))
    assert status_of(info.value) == 400


def test_properties_are_checked_against_the_catalogue():
    props = layer_properties(CATALOGUE["tasks"])
    assert "geom" not in props and "due_date" in props and "title" in props
    assert cql2.parse("a = 1") is not None  # one-letter names parse (custom layers may have them)
