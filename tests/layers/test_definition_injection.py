"""No value of a layer definition ever becomes code.

Hypothesis throws quotes, dollar quotes, backslashes, comments, newlines, NUL, lone surrogates and format
directives at every field of a custom-layer definition, through the typed definition (what the API and the
CLI do) and straight at the database function (what a role holding only the application's rights could do).
Each value is either refused, with nothing created, or stored literally — and the created layer then enforces
exactly the rules it declares, no more and no fewer.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from layers.custom import create_custom_layer, layer_from_definition
from layers.spec import Layer, SpecError

HOSTILE = [
    "'",
    "''",
    '"',
    "$$",
    "$fn$",
    "$body$ BEGIN PERFORM pg_sleep(10); END $body$",
    "\\",
    "\\'",
    "E'\\x41'",
    "--",
    "/*",
    "*/",
    "\n",
    "\r\n",
    "\x00",
    "\ud800",
    "%s",
    "%I",
    "%L",
    ")",
    "); DROP TABLE parcels; --",
    "0); CREATE TABLE pwned(); --",
    "1 OR 1=1",
    "' || pg_read_file('/etc/passwd') || '",
    "x'; COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'; --",
    "Ω ضاحية γειτονιά",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=4).map("".join),
    st.text(max_size=20),
)
hostile_value = st.one_of(hostile_text, st.integers(), st.floats(), st.booleans(), st.none())

BASE: dict[str, Any] = {
    "name": "hostile_probe",
    "title": "Probe",
    "description": "A layer under attack",
    "geometry_type": "Point",
    "attributes": [
        {"name": "depth", "type": "number", "minimum": 0, "maximum": 100, "unit": "m", "label": "Depth", "help": "?"},
        {"name": "state", "type": "choice", "required": True, "choices": ["ok", {"value": "broken", "label": "B"}]},
        {"name": "note", "type": "text", "max_length": 20, "default": "none"},
    ],
    "key_attribute": "state",
}
# Every field a planner can fill in.
FIELDS: list[tuple[Any, ...]] = [
    ("name",),
    ("title",),
    ("description",),
    ("geometry_type",),
    ("key_attribute",),
    ("attributes", 0, "name"),
    ("attributes", 0, "type"),
    ("attributes", 0, "label"),
    ("attributes", 0, "help"),
    ("attributes", 0, "unit"),
    ("attributes", 0, "minimum"),
    ("attributes", 0, "maximum"),
    ("attributes", 1, "choices", 0),
    ("attributes", 1, "choices", 1, "value"),
    ("attributes", 1, "choices", 1, "label"),
    ("attributes", 1, "required"),
    ("attributes", 2, "max_length"),
    ("attributes", 2, "default"),
]
POINT = "SRID=4326;POINT(24.94 60.17)"


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    definition = copy.deepcopy(BASE)
    target = definition
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return definition


def _footprint(conn: psycopg.Connection) -> tuple[int, int, int]:
    """Tables of the database, functions in its schemas, registered layers."""
    return conn.execute(
        "SELECT (SELECT count(*) FROM pg_class WHERE relkind = 'r'),"
        " (SELECT count(*) FROM pg_proc WHERE pronamespace IN ('public'::regnamespace, 'mahalle'::regnamespace)),"
        " (SELECT count(*) FROM mahalle.layer_registry)"
    ).fetchone()


def _refused(conn: psycopg.Connection, sql: str, params: tuple[Any, ...]) -> bool:
    try:
        with conn.transaction():
            conn.execute(sql, params)
    except psycopg.Error:
        return True
    return False


def _insert(conn: psycopg.Connection, layer: Layer, values: dict[str, Any]) -> bool:
    """Whether the database refuses a row with ``values`` (the required attributes filled in validly)."""
    row = {a.name: a.values[0] for a in layer.attributes if a.required and a.type == "choice"}
    row.update(values)
    if layer.has_geometry:
        row["geom"] = POINT
    if not row:
        return _refused(conn, f'INSERT INTO "{layer.name}" DEFAULT VALUES', ())
    names = ", ".join(f'"{n}"' for n in row)
    marks = ", ".join(["%s"] * len(row))
    return _refused(conn, f'INSERT INTO "{layer.name}" ({names}) VALUES ({marks})', tuple(row.values()))


def _assert_enforces_exactly(conn: psycopg.Connection, layer: Layer) -> None:
    stored = conn.execute("SELECT spec FROM mahalle.layer_registry WHERE name = %s", (layer.name,)).fetchone()[0]
    assert stored == json.loads(json.dumps(layer.to_json())), "the definition is stored literally"
    for a in layer.attributes:
        if a.type == "choice":
            for value in a.values:
                assert not _insert(conn, layer, {a.name: value}), f"declared value {value!r} is accepted"
            assert _insert(conn, layer, {a.name: "undeclared" + "".join(a.values)}), "other values are refused"
        if a.type == "number" and a.minimum is not None:
            assert not _insert(conn, layer, {a.name: a.minimum})
            assert _insert(conn, layer, {a.name: a.minimum - 1})
        if a.type == "number" and a.maximum is not None:
            assert not _insert(conn, layer, {a.name: a.maximum})
            assert _insert(conn, layer, {a.name: a.maximum + 1})
        if a.type == "text" and a.max_length is not None:
            assert not _insert(conn, layer, {a.name: "x" * a.max_length})
            assert _insert(conn, layer, {a.name: "x" * (a.max_length + 1)})
    for a in layer.attributes:
        if a.required:
            missing = {a.name: None}
            assert _insert(conn, layer, missing), f"{a.name} is required"
    assert not _insert(conn, layer, {}), "a row with the required attributes is accepted"


def _probe(conn: psycopg.Connection, create: Any) -> None:
    """Run ``create`` in a transaction rolled back afterwards: refused with nothing created, or a layer that
    enforces exactly what it declares."""
    with conn.transaction(force_rollback=True):
        before = _footprint(conn)
        try:
            with conn.transaction():
                layer = create()
        except (SpecError, psycopg.Error):
            assert _footprint(conn) == before, "a refused definition leaves nothing behind"
            return
        tables, functions, registered = _footprint(conn)
        assert (functions, registered) == (before[1], before[2] + 1), "no function is made for a custom layer"
        assert tables == before[0] + 1, "exactly one table is made"
        _assert_enforces_exactly(conn, layer)
    assert conn.execute("SELECT to_regclass('public.parcels') IS NOT NULL").fetchone()[0]
    assert conn.execute("SELECT to_regclass('public.pwned') IS NULL").fetchone()[0]


HYPOTHESIS = settings(
    max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HYPOTHESIS
@given(field=st.sampled_from(FIELDS), value=hostile_value)
def test_hostile_values_through_the_definition(conn, field, value):
    _probe(conn, lambda: create_custom_layer(conn, layer_from_definition(_with(field, value))))


@HYPOTHESIS
@given(field=st.sampled_from(FIELDS), value=hostile_value)
def test_hostile_values_straight_at_the_database_function(conn, field, value):
    """A caller with the application's rights may skip the Python checks: the database checks again."""
    spec = layer_from_definition(BASE).to_json()
    path = {("attributes", 1, "choices", 0): ("attributes", 1, "choices", 0, "value")}.get(field, field)
    spec = _with_spec(spec, path, value)

    def create() -> Layer:
        conn.execute("SELECT mahalle.create_custom_layer(%s)", (Jsonb(spec),))
        stored = conn.execute("SELECT spec FROM mahalle.layer_registry WHERE name = %s", (spec["name"],)).fetchone()
        assert stored[0] == json.loads(json.dumps(spec)), "the definition is stored as sent"
        return Layer.from_json(stored[0])  # what the catalogue will read back must still be a layer

    _probe(conn, create)


def _with_spec(spec: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    target = spec
    for key in path[:-1]:
        target = target[key]
    if isinstance(target, dict) or (isinstance(target, list) and isinstance(path[-1], int)):
        target[path[-1]] = value
    return spec


@pytest.mark.parametrize("value", ["0); CREATE TABLE pwned(); --", "1e400", "NaN", "'"])
def test_a_range_given_as_text_is_refused_with_a_planner_message(conn, value):
    definition = _with(("attributes", 0, "minimum"), value)
    with pytest.raises(SpecError, match=r"attributes\.0\.minimum"):
        layer_from_definition(definition)


def test_a_choice_value_with_quotes_is_stored_and_enforced_literally(conn):
    tricky = "it's $$ -- /* \\ */"
    layer = layer_from_definition(_with(("attributes", 1, "choices", 0), tricky))
    create_custom_layer(conn, layer)
    assert not _insert(conn, layer, {"state": tricky})
    assert _insert(conn, layer, {"state": "its"})
    message = conn.execute(
        "SELECT spec->'attributes'->1->'choices'->0->>'value' FROM mahalle.layer_registry WHERE name = %s",
        (layer.name,),
    ).fetchone()[0]
    assert message == tricky
