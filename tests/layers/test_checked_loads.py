"""Checked loads (migrations 0016 and 0018): the application, having checked an import's staged rows set-based, writes
them without the row triggers checking each again, and gives its new rows the stamps and neighbourhood the triggers
would give; nobody else can ask for that, and every other statement — also later in the same transaction — is
checked, stamped and placed row by row as before."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import shapely
from psycopg.conninfo import conninfo_to_dict

from api.identity import db_login, store
from api.runtime import Database
from importers.demo import CODE
from importers.load import create_stage, locate_staged, match_staged, rows_to_batch, stage, upsert_staged
from layers import migrate
from layers.catalogue import core_catalogue

SQUARE = "SRID=4326;MULTIPOLYGON((({x} {y}, {x2} {y}, {x2} {y2}, {x} {y2}, {x} {y})))"
# A parcel whose land use is in no list: the validation trigger refuses it (23514).
ODD = "INSERT INTO parcels (geom, land_use, tenure) VALUES (%s, 'spaceport', 'informal') RETURNING id"


def a_parcel(conn: psycopg.Connection) -> str:
    x, y = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM neighbourhoods n, ST_PointOnSurface(n.geom) p WHERE n.code = %s", (CODE,)
    ).fetchone()
    return SQUARE.format(x=x, y=y, x2=x + 0.0001, y2=y + 0.0001)


def test_only_the_statement_of_a_checked_load_skips_the_row_checks(demo_db_url):
    with psycopg.connect(demo_db_url) as conn:
        geom = a_parcel(conn)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(ODD, (geom,))
        conn.rollback()
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        assert conn.execute(ODD, (geom,)).fetchone()[0]  # the application vouches for it: not checked again
        with pytest.raises(psycopg.IntegrityError, match="blighted_plots new feature"):  # another layer: as ever
            conn.execute("INSERT INTO blighted_plots (geom, status) VALUES (%s, 'nonsense')", (geom,))
        conn.rollback()
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        conn.execute("SELECT mahalle.end_checked_load()")
        with pytest.raises(psycopg.errors.CheckViolation):  # later in the same transaction: checked again
            conn.execute(ODD, (geom,))
        conn.rollback()
        # The table's constraints hold for a checked load too, and the stamps and history are written.
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO parcels (geom, tenure, floors) VALUES (%s, 'informal', 900)", (geom,))
        conn.rollback()
        conn.execute("SELECT set_config('mahalle.actor', 'loader', true), mahalle.begin_checked_load('parcels')")
        fid = conn.execute(
            "INSERT INTO parcels (geom, tenure) VALUES (%s, 'informal') RETURNING id", (geom,)
        ).fetchone()[0]
        row = conn.execute("SELECT version, created_by, neighbourhood_id FROM parcels WHERE id = %s", (fid,)).fetchone()
        assert row[:2] == (1, "loader") and row[2] is not None
        history = "SELECT count(*) FROM mahalle.history WHERE layer = 'parcels' AND feature_id = %s"
        assert conn.execute(history, (fid,)).fetchone() == (1,)
        conn.rollback()


def test_the_setting_alone_does_not_skip_the_checks(demo_db_url):
    with psycopg.connect(demo_db_url) as conn:
        conn.execute("SELECT set_config('mahalle.checked_load', 'parcels', true)")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(ODD, (a_parcel(conn),))
        conn.rollback()
        # The number only begin_checked_load draws: a session that never drew one is refused, not waved through.
        conn.execute("SELECT set_config('mahalle.checked_load', 'parcels 1', true)")
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="currval"):
            conn.execute(ODD, (a_parcel(conn),))
        conn.rollback()
        # A number drawn for an earlier load (or for another layer) does not name this one.
        conn.execute("SELECT mahalle.begin_checked_load('parcels'), mahalle.end_checked_load()")
        conn.execute("SELECT mahalle.begin_checked_load('streets')")
        conn.execute(
            "SELECT set_config('mahalle.checked_load', 'parcels ' || currval('mahalle.checked_load_serial') - 1, true)"
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(ODD, (a_parcel(conn),))


def test_a_persons_own_login_cannot_skip_the_checks(pg_server, demo_db_url):
    name = f"planner-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(demo_db_url, autocommit=True) as demo:
        geom = a_parcel(demo)
        store.add_user(demo, name, [store.Grant("admin", None)])
        with psycopg.connect(pg_server.admin(conninfo_to_dict(demo_db_url)["dbname"]), autocommit=True) as admin:
            login, password = db_login.ensure_login(demo, admin, name)
            try:
                url = db_login.connection_url(Database(demo_db_url), login, password)
                with psycopg.connect(url) as own:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        own.execute("SELECT mahalle.begin_checked_load('parcels')")
                    own.rollback()
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        own.execute("INSERT INTO mahalle.checked_loads VALUES (pg_current_xact_id(), 'parcels')")
                    own.rollback()
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        own.execute("SELECT mahalle.defer_indexes('parcels')")
                    own.rollback()
                    # Naming the load in the setting gets the statement refused, not waved through.
                    for forged in ("parcels", "parcels 1"):  # migration 0016's form, and 0018's (layer and number)
                        own.execute("SELECT set_config('mahalle.checked_load', %s, true)", (forged,))
                        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.CheckViolation)):
                            own.execute(ODD, (geom,))
                        own.rollback()
                    # Nor do forged stamps pass: the stamp trigger writes the login's own.
                    own.execute("SELECT set_config('mahalle.checked_load', 'parcels 1', true)")
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        own.execute(FORGED, (geom,))
                    own.rollback()
                    fid = own.execute(FORGED, (geom,)).fetchone()[0]
                    stamps = own.execute(STAMPS, (fid,)).fetchone()
                    assert stamps[:3] == (1, True, name) and stamps[3:5] == (True, name), stamps
                    own.rollback()
                    assert own.execute("SELECT count(*) FROM parcels WHERE land_use = 'spaceport'").fetchone() == (0,)
            finally:
                db_login.drop_login(admin, db_login.LOGIN_PREFIX + name)


def test_a_custom_layer_registered_later_gets_the_skip_but_keeps_its_validation(conn):
    from layers.custom import create_custom_layer, layer_from_definition

    definition = {"name": "kiosks", "title": {"en": "Kiosks"}, "geometry_type": "Point",
                  "attributes": [{"name": "kind", "type": "choice", "choices": [{"value": "food"}]}]}  # fmt: skip
    create_custom_layer(conn, layer_from_definition(definition))
    whens = dict(
        conn.execute(
            "SELECT tgname, pg_get_triggerdef(oid) LIKE '%%checked_load%%' FROM pg_trigger "
            "WHERE tgrelid = 'public.kiosks'::regclass AND tgname IN ('a10_validate', 'a15_plausibility', 'a25_permit')"
        ).fetchall()
    )
    assert whens == {"a10_validate": False, "a15_plausibility": True, "a25_permit": True}


def test_interventions_keep_their_permit_check_for_every_row(conn):
    """Only mahalle.permit_row knows that an intervention must lie wholly within a neighbourhood its planner may plan
    in: a checked load may not skip it."""
    when = (
        "SELECT pg_get_triggerdef(oid) LIKE '%%checked_load%%' FROM pg_trigger "
        "WHERE tgrelid = %s::regclass AND tgname = %s"
    )
    assert conn.execute(when, ("public.interventions", "a25_permit")).fetchone() == (False,)
    assert conn.execute(when, ("public.interventions", "a10_validate")).fetchone() == (True,)
    assert conn.execute(when, ("public.parcels", "a25_permit")).fetchone() == (True,)


def test_0016_down_and_up(empty_db_url):
    migrate.upgrade(empty_db_url)
    migrate.downgrade(empty_db_url, "0015")
    count = "SELECT count(*) FROM pg_trigger WHERE pg_get_triggerdef(oid) LIKE '%checked_load%'"
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute(count).fetchone()[0] == 0
        assert conn.execute("SELECT to_regclass('mahalle.checked_loads')").fetchone()[0] is None
        assert conn.execute("SELECT mahalle.plausibility_problem('parcels', NULL)").fetchone() == (None,)
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute(count).fetchone()[0] > 20


INDEXES = (
    "SELECT array_agg(pg_get_indexdef(indexrelid) ORDER BY 1) FROM pg_index WHERE indrelid = 'public.parcels'::regclass"
)


def test_a_checked_load_into_an_empty_layer_builds_its_plain_indexes_after_the_rows(conn):
    before = conn.execute(INDEXES).fetchone()[0]
    assert any("gist" in d for d in before)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # only within a checked load of the layer
        conn.execute("SELECT mahalle.defer_indexes('parcels')")
    with conn.transaction():
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        deferred = conn.execute("SELECT mahalle.defer_indexes('parcels')").fetchone()[0]
        assert deferred == 3  # geometry, neighbourhood, updated_at
        during = conn.execute(INDEXES).fetchone()[0]
        assert not any("gist" in d for d in during) and any("UNIQUE" in d for d in during)  # keys stay
        conn.execute(
            "INSERT INTO parcels (geom, tenure) SELECT ST_Multi(ST_MakeEnvelope(x, 0, x + 0.001, 0.001, 4326)), "
            "'informal' FROM generate_series(0, 9) x"
        )
        conn.execute("SELECT mahalle.end_checked_load()")
        assert conn.execute(INDEXES).fetchone()[0] == before
    assert conn.execute(INDEXES).fetchone()[0] == before
    # A layer with rows keeps its indexes; a failed load puts back what it dropped.
    with conn.transaction():
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        assert conn.execute("SELECT mahalle.defer_indexes('parcels')").fetchone()[0] == 0
        conn.execute("SELECT mahalle.end_checked_load()")
    conn.execute("DELETE FROM parcels")
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        conn.execute("SELECT mahalle.defer_indexes('parcels')")
        conn.execute("INSERT INTO parcels (geom, tenure, floors) VALUES (ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)), "
                     "'informal', 999)")  # fmt: skip
    assert conn.execute(INDEXES).fetchone()[0] == before


def test_the_application_writes_the_signal_only_through_its_function(conn):
    """The definitions end_checked_load builds as the owner come from that table: nobody but the owner's functions
    may write it, not even the application role."""
    assert conn.execute("SELECT current_user").fetchone() == ("mahalle_app",)
    for statement in (
        "INSERT INTO mahalle.checked_loads (xact, layer, indexes) VALUES (pg_current_xact_id(), 'parcels', "
        "ARRAY['DROP TABLE public.parcels'])",
        "UPDATE mahalle.checked_loads SET indexes = ARRAY['DROP TABLE public.parcels']",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_a_checked_load_left_open_is_not_committed(conn):
    """A load that forgot to end would leave a layer without its deferred indexes: its transaction fails instead."""
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="was not ended"), conn.transaction():
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        conn.execute("SELECT mahalle.defer_indexes('parcels')")
    assert conn.execute(INDEXES).fetchone()[0] and any("gist" in d for d in conn.execute(INDEXES).fetchone()[0])


def test_a_layer_another_transaction_is_using_keeps_its_indexes(conn, db_url):
    """Two first imports into one empty layer: the second does not wait for the first's lock (nor deadlock)."""
    with psycopg.connect(db_url) as other:
        other.execute("SELECT count(*) FROM parcels")  # holds the layer (AccessShare) until its transaction ends
        with conn.transaction():
            conn.execute("SELECT mahalle.begin_checked_load('parcels')")
            assert conn.execute("SELECT mahalle.defer_indexes('parcels')").fetchone() == (0,)
            conn.execute("SELECT mahalle.end_checked_load()")
        other.rollback()


# Stamps a writer might try to set itself; the stamp trigger replaces them (version 1, now(), the actor).
FORGED = (
    "INSERT INTO parcels (geom, tenure, version, created_at, created_by, updated_at, updated_by) "
    "VALUES (%s, 'informal', 7, '2001-01-01', 'someone else', '2001-01-01', 'someone else') RETURNING id"
)
# A row's stamps, its times as "is it this transaction's now()", and its neighbourhood.
STAMPS = (
    "SELECT version, created_at = now(), created_by, updated_at = now(), updated_by, neighbourhood_id "
    "FROM parcels WHERE id = %s"
)


@dataclass
class _Row:
    source_id: str
    attributes: dict[str, Any]
    geometry: Any


def _load(conn: psycopg.Connection, ewkt: str, source: str) -> int:
    """One parcel written as an import writes it (importers/load.py, checked); its id."""
    layer = core_catalogue()["parcels"]
    create_stage(conn, layer)
    row = _Row("1", {"tenure": "informal"}, shapely.from_wkt(ewkt.split(";", 1)[1]))
    staged = stage(conn, layer, rows_to_batch(layer, [row]))
    match_staged(conn, layer, source)
    locate_staged(conn, layer)
    assert upsert_staged(conn, layer, source, staged, checked=True).inserted == 1
    return conn.execute("SELECT id FROM parcels WHERE source = %s", (source,)).fetchone()[0]


def test_a_checked_load_stamps_and_places_its_new_rows_as_the_triggers_would(demo_db_url):
    """Migration 0018: the import's upsert writes a new row's stamps and neighbourhood, and the stamp and
    neighbourhood triggers skip it — the same values as the triggers give the same parcel written by anyone else."""
    with psycopg.connect(demo_db_url) as conn:
        geom = a_parcel(conn)
        conn.execute("SELECT set_config('mahalle.actor', 'loader', true)")
        by_triggers = conn.execute(
            "INSERT INTO parcels (geom, tenure) VALUES (%s, 'informal') RETURNING id", (geom,)
        ).fetchone()[0]
        loaded = _load(conn, geom, "file:a.gpkg")
        expected = conn.execute(STAMPS, (by_triggers,)).fetchone()
        assert expected[:5] == (1, True, "loader", True, "loader") and expected[5] is not None
        assert conn.execute(STAMPS, (loaded,)).fetchone() == expected
        # The triggers did skip it: in a checked load, a fresh row's stamps are the statement's to write.
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        fresh = conn.execute(
            "INSERT INTO parcels (geom, tenure, created_by, updated_by) VALUES (%s, 'informal', 'the loader', "
            "'the loader') RETURNING id", (geom,),
        ).fetchone()[0]  # fmt: skip
        assert conn.execute(STAMPS, (fresh,)).fetchone()[:5] == (1, True, "the loader", True, "the loader")
        conn.execute("SELECT mahalle.end_checked_load()")
        history = "SELECT count(*) FROM mahalle.history WHERE layer = 'parcels' AND feature_id = ANY(%s)"
        assert conn.execute(history, ([by_triggers, loaded],)).fetchone() == (2,)


def test_outside_a_checked_load_or_for_an_older_row_the_triggers_stamp_and_place(demo_db_url):
    """Whatever stamps a statement writes, the trigger replaces them unless the row is a fresh one of a checked load;
    an update (of a row from an earlier transaction) is stamped and placed by the triggers in a checked load too."""
    with psycopg.connect(demo_db_url) as conn:
        geom = a_parcel(conn)
        conn.execute("SELECT set_config('mahalle.actor', 'loader', true)")
        fid = conn.execute(FORGED, (geom,)).fetchone()[0]  # no checked load: the trigger's stamps
        assert conn.execute(STAMPS, (fid,)).fetchone()[:5] == (1, True, "loader", True, "loader")
        conn.execute("SELECT mahalle.begin_checked_load('parcels')")
        fid = conn.execute(FORGED, (geom,)).fetchone()[0]  # a checked load, but not a fresh row's stamps
        assert conn.execute(STAMPS, (fid,)).fetchone()[:5] == (1, True, "loader", True, "loader")
        nid = conn.execute(  # no neighbourhood given: the trigger finds it
            "INSERT INTO parcels (geom, tenure) VALUES (%s, 'informal') RETURNING neighbourhood_id", (geom,)
        ).fetchone()[0]
        assert nid == conn.execute("SELECT id FROM neighbourhoods WHERE code = %s", (CODE,)).fetchone()[0]
        conn.execute("SELECT mahalle.end_checked_load()")
        conn.commit()
        # An older row updated in a checked load: version, time and author from the trigger, moved out of its
        # neighbourhood: placed again by the trigger.
        conn.execute("SELECT set_config('mahalle.actor', 'updater', true), mahalle.begin_checked_load('parcels')")
        conn.execute(
            "UPDATE parcels SET floors = 2, geom = ST_Multi(ST_MakeEnvelope(0, 0, 0.001, 0.001, 4326)) WHERE id = %s",
            (fid,),
        )
        conn.execute("SELECT mahalle.end_checked_load()")
        assert conn.execute(STAMPS, (fid,)).fetchone() == (2, False, "loader", True, "updater", None)


def test_0018_down_and_up(empty_db_url):
    migrate.upgrade(empty_db_url)
    migrate.downgrade(empty_db_url, "0017")
    definition = (
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'public.parcels'::regclass AND tgname = %s"
    )
    with psycopg.connect(empty_db_url) as conn:
        assert "WHEN" not in conn.execute(definition, ("a30_stamp",)).fetchone()[0]
        assert "WHEN" not in conn.execute(definition, ("a20_neighbourhood",)).fetchone()[0]
        assert "checked_load('parcels'" in conn.execute(definition, ("a10_validate",)).fetchone()[0]  # 0016's WHEN
        assert conn.execute("SELECT to_regclass('mahalle.checked_load_serial')").fetchone() == (None,)
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        for trigger in ("a10_validate", "a20_neighbourhood", "a30_stamp"):
            assert "currval" in conn.execute(definition, (trigger,)).fetchone()[0]
