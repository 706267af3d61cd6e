"""The demo neighbourhood loads through the OSM reader and the bulk loader, once."""

from __future__ import annotations

from importers.demo import CODE, load_demo
from layers.catalogue import core_catalogue
from layers.counts import feature_counts


def test_demo_loads_once_with_a_plan(db_url, conn):
    assert load_demo(db_url) is True
    counts = feature_counts(conn, core_catalogue())
    assert counts["streets"] > 2000 and counts["service_points"] > 500 and counts["parcels"] > 500
    assert counts["interventions"] == 4 and counts["tasks"] >= 8
    unassigned = conn.execute("SELECT count(*) FROM streets WHERE neighbourhood_id IS NULL").fetchone()[0]
    assert unassigned == 0
    nid = conn.execute("SELECT id FROM neighbourhoods WHERE code = %s", (CODE,)).fetchone()[0]
    assert (
        conn.execute("SELECT count(*) FROM tasks WHERE neighbourhood_id = %s", (nid,)).fetchone()[0] == counts["tasks"]
    )
    # every demo street came from OSM with its id, and its history names the demo as the cause
    row = conn.execute("SELECT source, source_id FROM streets WHERE source_id = 'way/14472965'").fetchone()
    assert row == ("osm", "way/14472965")
    actors = conn.execute("SELECT DISTINCT actor, cause FROM mahalle.history WHERE layer = 'streets'").fetchall()
    assert actors == [("demo", "demo data: OpenStreetMap extract")]
    # the paving intervention is drawn over the streets it targets
    covered = conn.execute(
        "SELECT bool_and(ST_Covers(ST_Buffer(i.geom::geography, 1)::geometry, s.geom)) FROM interventions i "
        "JOIN intervention_targets t ON t.intervention_id = i.id AND t.layer = 'streets' "
        "JOIN streets s ON s.id = t.feature_id WHERE i.kind = 'paving'"
    ).fetchone()[0]
    assert covered is True
    history_rows = conn.execute("SELECT count(*) FROM mahalle.history").fetchone()[0]
    assert load_demo(db_url) is False
    assert conn.execute("SELECT count(*) FROM mahalle.history").fetchone()[0] == history_rows
