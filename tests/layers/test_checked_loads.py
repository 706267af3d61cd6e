"""Checked loads (migration 0016): the application, having checked an import's staged rows set-based, writes them
without the row triggers checking each again; nobody else can ask for that, and every other statement — also later
in the same transaction — is checked row by row as before."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from api.identity import db_login, store
from api.runtime import Database
from importers.demo import CODE
from layers import migrate

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
                    own.execute("SELECT set_config('mahalle.checked_load', 'parcels', true)")
                    with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.CheckViolation)):
                        own.execute(ODD, (geom,))
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
