"""The bulk loader's own work: neighbourhoods found in the upsert exactly as the trigger finds them, and
whole-column value checks that say what value-by-value checks say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from core.db import attributed
from importers.mapping import Mapping, ValueMapper
from importers.run import ImportOptions, run_import
from layers.catalogue import core_catalogue

CATALOGUE = core_catalogue()
# Two neighbourhoods side by side (shared edge at x = 24.95), the second one inserted first (lower id).
EAST = "SRID=4326;MULTIPOLYGON(((24.95 60.16, 24.96 60.16, 24.96 60.18, 24.95 60.18, 24.95 60.16)))"
WEST = "SRID=4326;MULTIPOLYGON(((24.93 60.16, 24.95 60.16, 24.95 60.18, 24.93 60.18, 24.93 60.16)))"
PARCELS = {
    "inside west": shapely.box(24.935, 60.165, 24.94, 60.17),
    "mostly west, touches east": shapely.box(24.94, 60.165, 24.951, 60.17),  # point on surface: west
    "mostly east, touches west": shapely.box(24.949, 60.165, 24.959, 60.17),  # east has the lower id
    "across the shared edge": shapely.box(24.949, 60.171, 24.951, 60.172),  # point on surface on the edge
    "outside both": shapely.box(24.97, 60.165, 24.975, 60.17),  # near enough to be plausible
}


def test_import_gives_the_neighbourhood_the_trigger_gives(conn, tmp_path: Path):
    with attributed(conn, "tester"):
        for code, geom in (("EAST", EAST), ("WEST", WEST)):
            conn.execute("INSERT INTO neighbourhoods (code, name, geom) VALUES (%s, %s, %s)", (code, code, geom))
    path = tmp_path / "parcels.gpkg"
    geoms = np.array([shapely.to_wkb(shapely.MultiPolygon([g])) for g in PARCELS.values()], dtype=object)
    pyogrio.raw.write(
        path,
        geoms,
        [np.array(list(PARCELS), dtype=object)],
        ["note"],
        driver="GPKG",
        geometry_type="MultiPolygon",
        crs="EPSG:4326",
    )
    report = run_import(conn, CATALOGUE, path, ImportOptions(layer="parcels"), "tester")
    assert report.layers["parcels"].new == len(PARCELS), report.rejected
    with attributed(conn, "tester"):  # the same shapes through the trigger alone
        conn.execute("INSERT INTO parcels (note, geom, source) SELECT note, geom, 'by trigger' FROM parcels ")
    found = conn.execute(
        "SELECT p.note, n.code, t.neighbourhood_id IS NOT DISTINCT FROM p.neighbourhood_id "
        "FROM parcels p LEFT JOIN neighbourhoods n ON n.id = p.neighbourhood_id "
        "JOIN parcels t ON t.note = p.note AND t.source = 'by trigger' WHERE p.source LIKE 'file:%' ORDER BY p.id"
    ).fetchall()
    assert found == [
        ("inside west", "WEST", True),
        ("mostly west, touches east", "WEST", True),
        ("mostly east, touches west", "EAST", True),
        ("across the shared edge", found[3][1], True),
        ("outside both", None, True),
    ]


def test_whole_columns_convert_as_single_values_do():
    layer = CATALOGUE["parcels"]
    columns = {
        "floors": np.array([3.0, np.nan, 2.5, 250.0, np.inf, 7.0, -1.0]),
        "note": np.array(["a", None, "  ", "x" * 5, "b", "c", "d"], dtype=object),
        "address": np.array(["ok", "y" * 301, None, "z", "w", "v", "u"], dtype=object),
        "land_use": np.array(["Park", "residential", "spaceport", None, "spaceport", 7.0, "مسکونی"], dtype=object),
    }
    mapping = Mapping(values={"land_use": {"7": "vacant"}})
    single, whole = ValueMapper(layer, mapping), ValueMapper(layer, mapping)
    for name, values in columns.items():
        attr = layer.attribute(name)
        expected, problems = [], {}
        for i, value in enumerate(values):
            try:
                expected.append(single.convert(attr, value.item() if isinstance(value, np.generic) else value))
            except ValueError as exc:
                expected.append(None)
                problems[i] = str(exc)
        assert whole.convert_column(attr, values) == (expected, problems), name
    assert whole.unmapped == single.unmapped == {"land_use": {"spaceport": 2}}
    assert whole.convert_column(layer.attribute("floors"), columns["floors"])[1] == {
        2: "floors: 2.5 is not a whole number",
        3: "floors: 250 is outside 0..200",
        4: "floors: inf is not a whole number",
        6: "floors: -1 is outside 0..200",
    }


def test_a_layer_analyzed_while_empty_is_not_scanned_once_per_staged_row(conn, owner_conn):
    """Statistics saying the layer is empty (autovacuum analyzed it before its first import) must not give the upsert
    a nested loop over the layer, which would rescan the pages the statement is filling: quadratic."""
    # (The rows are matched to the layer first, so the plan's one join is the update's, of the staged rows the layer
    # has: none here, but the plan is made before that is known.)
    from importers.load import Batch, create_stage, stage, to_ewkb, upsert_query

    owner_conn.execute("ANALYZE public.parcels")
    parcels = CATALOGUE["parcels"]
    boxes = [shapely.MultiPolygon([shapely.box(24.93 + i * 1e-4, 60.16, 24.93 + (i + 1) * 1e-4, 60.1601)])
             for i in range(2000)]  # fmt: skip
    with conn.transaction():
        create_stage(conn, parcels)
        values = {a.name: [a.default] * len(boxes) for a in parcels.attributes}
        stage(conn, parcels, Batch([str(i) for i in range(len(boxes))], to_ewkb(boxes), values))
        conn.execute("UPDATE _mahalle_stage SET _fid = 0")  # as if every row matched: the update's join is planned
        plan = "\n".join(
            r[0] for r in conn.execute(b"EXPLAIN " + upsert_query(parcels).as_bytes(conn), {"source": "file:x"})
        )
    assert "Hash Join" in plan and "Nested Loop" not in plan, plan


def test_staging_batch_by_batch_finds_the_neighbourhoods_locate_staged_finds(conn):
    """stage_located looks up only the rows each batch added (a TID range from the pages the table had): over batches
    that share pages, every row gets the neighbourhood one lookup over the whole table gives, none is left out."""
    from importers.load import Batch, create_stage, locate_staged, stage_located, to_ewkb

    with attributed(conn, "tester"):
        for code, geom in (("EAST", EAST), ("WEST", WEST)):
            conn.execute("INSERT INTO neighbourhoods (code, name, geom) VALUES (%s, %s, %s)", (code, code, geom))
    parcels = CATALOGUE["parcels"]
    shapes = list(PARCELS.values())
    found = "SELECT _sid, _nid, _inside FROM _mahalle_stage ORDER BY _sid"
    with conn.transaction():
        create_stage(conn, parcels)
        for first in range(0, 1500, 137):  # batches that end mid-page, with rows inside, across and outside
            ids = [str(i) for i in range(first, min(first + 137, 1500))]
            boxes = [shapely.MultiPolygon([shapes[int(i) % len(shapes)]]) for i in ids]
            values = {a.name: [a.default] * len(ids) for a in parcels.attributes}
            assert stage_located(conn, parcels, Batch(ids, to_ewkb(boxes), values)) == len(ids)
        batched = conn.execute(found).fetchall()
        conn.execute("UPDATE _mahalle_stage SET _nid = NULL, _inside = NULL")
        locate_staged(conn, parcels)
        assert batched == conn.execute(found).fetchall()
    assert len(batched) == 1500 and sum(nid is None for _, nid, _ in batched) == 1500 // len(shapes)  # outside both


def test_reading_ahead_gives_every_batch_in_order_and_the_readers_error_where_it_is_read():
    from importers.run import _read_ahead

    assert list(_read_ahead(iter(range(10)))) == list(range(10))

    def failing():
        yield 1
        raise FileNotFoundError("gone")

    got = []
    with pytest.raises(FileNotFoundError, match="gone"):
        for batch in _read_ahead(failing()):
            got.append(batch)
    assert got == [1]
    read = []

    def endless():
        while True:
            read.append(len(read))
            yield read[-1]

    from contextvars import ContextVar

    seen: ContextVar[str] = ContextVar("seen", default="not set")
    token = seen.set("the caller's")  # the reader runs in the caller's context (a request's limits live there)
    try:
        assert list(_read_ahead(iter([0]), depth=1)) == [0]
        assert next(_read_ahead(seen.get() for _ in range(1))) == "the caller's"
    finally:
        seen.reset(token)
    ahead = _read_ahead(endless(), depth=2)
    assert next(ahead) == 0
    ahead.close()  # the reader stops: at most the batches it had room for are read
    assert len(read) <= 5
