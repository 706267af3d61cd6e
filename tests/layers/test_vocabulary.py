"""Value lists the office changes (layers/vocabulary.py, layers/sql/vocabulary.sql): an added entry is accepted
by the layer's rules, a retired one refused for new values and kept where it is, an entry in use or of the
catalogue never removed, only administrators change the lists. Written as plain SQL where QGIS would write it."""

from __future__ import annotations

import json

import psycopg
import pytest

from layers import vocabulary
from layers.catalogue import load_catalogue
from tests.layers import test_outputs
from tests.layers.test_outputs import act_as, one, refused, task

LINE = "SRID=4326;LINESTRING(24.901 60.101, 24.905 60.101)"

hoods = test_outputs.hoods  # the two neighbourhoods A and B, as a fixture here too


def add(conn: psycopg.Connection, layer: str, attribute: str, value: str, **label: str) -> None:
    conn.execute("INSERT INTO mahalle.vocabulary (layer, attribute, value, label) VALUES (%s, %s, %s, %s)",
                 (layer, attribute, value, json.dumps(label or {"en": value.replace("_", " ")})))  # fmt: skip


def intervention(conn: psycopg.Connection, kind: str) -> int:
    return one(conn, "INSERT INTO interventions (title, kind, geom) VALUES ('Signs', %s, %s) RETURNING id", kind, LINE)


def test_an_added_entry_is_a_value_of_the_layer_and_labels_the_catalogue(conn):
    err = refused(conn, "INSERT INTO interventions (title, kind, geom) VALUES ('Signs', 'traffic_signs', %s)", LINE)
    assert err.diag.column_name == "kind" and "is not one of: paving" in str(err)
    add(conn, "interventions", "kind", "traffic_signs", en="Traffic signs", fa="تابلوهای راهنمایی")
    iid = intervention(conn, "traffic_signs")
    assert one(conn, "SELECT kind FROM interventions WHERE id = %s", iid) == "traffic_signs"
    kind = load_catalogue(conn)["interventions"].attribute("kind")
    added = kind.choices[-1]
    assert (added.value, added.label["fa"], added.retired) == ("traffic_signs", "تابلوهای راهنمایی", False)
    assert kind.values[0] == "paving"  # the catalogue's order first
    err = refused(conn, "INSERT INTO interventions (title, kind, geom) VALUES ('x', 'bus_stop_signs', %s)", LINE)
    assert "traffic_signs" in str(err)  # the message lists the entries as they are now


def test_a_retired_entry_stays_on_its_rows_and_is_refused_for_new_ones(conn, hoods):
    tid = task(conn, hoods[0])
    add(conn, "outputs", "kind", "alley_representatives")
    conn.execute("INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'alley_representatives', 64)", (tid,))
    oid = one(conn, "INSERT INTO outputs (task_id, kind, quantity, date) "
                    "VALUES (%s, 'alley_representatives', 60, '2026-10-01') RETURNING id", tid)  # fmt: skip
    conn.execute("UPDATE mahalle.vocabulary SET retired = true WHERE value = 'alley_representatives'")
    conn.execute("UPDATE outputs SET quantity = 64 WHERE id = %s", (oid,))  # the row keeps its value
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date) "
                        "VALUES (%s, 'alley_representatives', 1, '2026-10-02')", tid)  # fmt: skip
    assert err.diag.column_name == "kind" and "alley_representatives" not in err.diag.message_primary.split("of:")[1]
    other = one(conn, "INSERT INTO outputs (task_id, kind, quantity, date) VALUES (%s, 'hires', 1, '2026-10-02') "
                      "RETURNING id", tid)  # fmt: skip
    err = refused(conn, "UPDATE outputs SET kind = 'alley_representatives' WHERE id = %s", other)
    assert err.diag.column_name == "kind"
    err = refused(conn, "INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'alley_representatives', 9)",
                  task(conn, hoods[0], "Elections"))  # fmt: skip
    assert "is not a kind of output" in str(err)


def test_multi_valued_lists_take_added_entries_too(conn):
    add(conn, "service_points", "offers", "translation", en="Translation", fr="Traduction")
    sid = one(conn, "INSERT INTO service_points (category, offers, geom) VALUES ('ngo', '{translation,legal_aid}', "
                    "'SRID=4326;POINT(24.91 60.105)') RETURNING id")  # fmt: skip
    conn.execute("UPDATE mahalle.vocabulary SET retired = true WHERE value = 'translation'")
    conn.execute("UPDATE service_points SET offers = '{translation,legal_aid,food}' WHERE id = %s", (sid,))  # kept
    err = refused(conn, "INSERT INTO service_points (category, offers, geom) VALUES ('ngo', '{translation}', "
                        "'SRID=4326;POINT(24.91 60.105)')")  # fmt: skip
    assert err.diag.column_name == "offers" and "only these values are allowed" in str(err)


def test_an_entry_in_use_or_of_the_catalogue_is_retired_not_removed(conn):
    add(conn, "interventions", "kind", "road_works")
    add(conn, "interventions", "kind", "waste_collection")
    intervention(conn, "road_works")
    err = refused(conn, "DELETE FROM mahalle.vocabulary WHERE value = 'road_works'")
    assert err.sqlstate == "23M02" and "road_works is used by 1 interventions features" in str(err)
    err = refused(conn, "DELETE FROM mahalle.vocabulary WHERE value = 'paving'")
    assert err.sqlstate == "23M02" and "entry of the catalogue" in str(err)
    err = refused(conn, "UPDATE mahalle.vocabulary SET value = 'pavement' WHERE value = 'paving'")
    assert "cannot be renamed" in str(err)
    conn.execute("DELETE FROM mahalle.vocabulary WHERE value = 'waste_collection'")  # never used: gone
    assert [e["value"] for e in vocabulary.entries(conn, "interventions", "kind")][-1] == "road_works"


@pytest.mark.parametrize(
    ("layer", "attribute", "value", "label", "column"),
    [
        ("interventions", "title", "x", {"en": "X"}, "attribute"),  # not a value list
        ("nowhere", "kind", "x", {"en": "X"}, "attribute"),
        ("interventions", "kind", "Traffic Signs", {"en": "X"}, "value"),
        ("interventions", "kind", "signs", {"fa": "تابلو"}, "label"),  # no English
        ("interventions", "kind", "signs", {"english": "Signs"}, "label"),
        ("interventions", "kind", "signs", {"en": "x" * 201}, "label"),
        ("interventions", "status", "postponed", {"en": "Postponed"}, "value"),  # a lifecycle: fixed
    ],
)
def test_entries_are_checked_in_a_planners_words(conn, layer, attribute, value, label, column):
    err = refused(conn, "INSERT INTO mahalle.vocabulary (layer, attribute, value, label) VALUES (%s, %s, %s, %s)",
                  layer, attribute, value, json.dumps(label))  # fmt: skip
    assert err.diag.column_name == column or isinstance(err, psycopg.errors.CheckViolation), str(err)
    assert str(err).startswith("vocabulary: ") or "violates check constraint" in str(err)


def test_only_administrators_of_every_neighbourhood_change_the_lists(conn, hoods):
    act_as(conn, "pia", "planner", hoods[0])
    err = refused(conn, "INSERT INTO mahalle.vocabulary (layer, attribute, value, label) "
                        "VALUES ('interventions', 'kind', 'signs', '{\"en\": \"Signs\"}')")  # fmt: skip
    assert isinstance(err, psycopg.errors.InsufficientPrivilege) and "change value lists" in str(err)
    err = refused(conn, "UPDATE mahalle.vocabulary SET retired = true WHERE value = 'paving'")
    assert isinstance(err, psycopg.errors.InsufficientPrivilege)
    assert one(conn, "SELECT count(*) FROM mahalle.vocabulary WHERE retired") == 0
