"""Row-level security and the permit triggers (layers/sql/identity.sql) as people's own database logins see them.

Two (or three) real PostgreSQL logins made with ``mahalle user db-login``'s function connect with a password, as
QGIS would, to a copy of the demo database with a second neighbourhood: what they read, what they may change, and
that nothing a session sets for itself widens that.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from api.identity import db_login, store
from api.runtime import Database

B_POLYGON = "SRID=4326;MULTIPOLYGON(((24.96 60.164, 24.97 60.164, 24.97 60.170, 24.96 60.170, 24.96 60.164)))"
IN_A = "SRID=4326;POINT(24.9430 60.1700)"
IN_B = "SRID=4326;POINT(24.9650 60.1670)"
PARCEL_IN_B = "SRID=4326;MULTIPOLYGON(((24.964 60.166, 24.965 60.166, 24.965 60.167, 24.964 60.167, 24.964 60.166)))"
STREET_IN_B = "SRID=4326;MULTILINESTRING((24.961 60.165, 24.969 60.165))"
STREET_IN_A = "SRID=4326;MULTILINESTRING((24.94 60.17, 24.941 60.17))"
LOGINS = db_login.LOGIN_PREFIX


@dataclass
class World:
    app: psycopg.Connection  # the application role, as the server (no grants set)
    admin: psycopg.Connection  # the superuser
    url: str
    a: int  # neighbourhood ids
    b: int
    a_code: str
    parcel_a: int
    parcel_b: int
    asset_a: int
    asset_b: int
    made: list[str]

    def count(self, table: str, where: str = "true") -> int:
        """Rows of ``table`` (``where``) as the superuser sees them: all of them."""
        return count(self.admin, table, where)

    @property
    def parcels_in_a(self) -> int:
        return self.count("parcels", f"neighbourhood_id = {self.a}")

    def person(self, role: str, neighbourhood: str | None = None) -> str:
        """A new user with this role and their database login; returns the user's name."""
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        store.add_user(self.app, name, [store.Grant(role, neighbourhood)])
        self.made.append(name)
        return name

    def login(self, name: str) -> psycopg.Connection:
        """The user's own database login, made (or renewed) as `mahalle user db-login` does, connected with its
        password through the URL the command prints."""
        login, password = db_login.ensure_login(self.app, self.admin, name)
        return psycopg.connect(db_login.connection_url(Database(self.url), login, password), autocommit=True)


@pytest.fixture
def world(pg_server, demo_db_url) -> Iterator[World]:
    admin_url = pg_server.admin(conninfo_to_dict(demo_db_url)["dbname"])
    with psycopg.connect(demo_db_url, autocommit=True) as app, psycopg.connect(admin_url, autocommit=True) as admin:
        a, a_code = admin.execute("SELECT id, code FROM neighbourhoods ORDER BY id LIMIT 1").fetchone()
        b = admin.execute(
            "INSERT INTO neighbourhoods (code, name, geom) VALUES ('TEST-B', 'Test B', %s) RETURNING id", (B_POLYGON,)
        ).fetchone()[0]
        parcel_b = admin.execute("INSERT INTO parcels (geom) VALUES (%s) RETURNING id", (PARCEL_IN_B,)).fetchone()[0]
        admin.execute("INSERT INTO streets (name, geom) VALUES ('B street', %s)", (STREET_IN_B,))
        asset_b = admin.execute(
            "INSERT INTO assets (kind, geom) VALUES ('bench', %s) RETURNING id", (IN_B,)
        ).fetchone()[0]
        parcel_a = admin.execute("SELECT min(id) FROM parcels WHERE neighbourhood_id = %s", (a,)).fetchone()[0]
        asset_a = admin.execute("SELECT min(id) FROM assets WHERE neighbourhood_id = %s", (a,)).fetchone()[0]
        assert admin.execute("SELECT neighbourhood_id FROM parcels WHERE id = %s", (parcel_b,)).fetchone()[0] == b
        assert admin.execute("SELECT neighbourhood_id FROM assets WHERE id = %s", (asset_b,)).fetchone()[0] == b
        w = World(app, admin, demo_db_url, a, b, a_code, parcel_a, parcel_b, asset_a, asset_b, [])
        try:
            yield w
        finally:
            for name in w.made:  # logins belong to the whole server: drop them with the test
                db_login.drop_login(admin, LOGINS + name)


def count(conn: psycopg.Connection, table: str, where: str = "true") -> int:
    statement = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(sql.Identifier(table), sql.SQL(where))
    return conn.execute(statement).fetchone()[0]


def refused(conn: psycopg.Connection, statement: str, params: tuple = ()) -> str:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
        conn.execute(statement, params)
    return caught.value.diag.message_primary


def test_the_login_has_a_scram_password_and_no_privilege(world):
    name = world.person("viewer")
    with world.login(name) as own:
        assert own.execute("SELECT current_user, mahalle.actor()").fetchone() == (LOGINS + name, name)
    row = world.admin.execute(
        "SELECT rolpassword, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolconnlimit "
        "FROM pg_authid WHERE rolname = %s",
        (LOGINS + name,),
    ).fetchone()
    assert row[0].startswith("SCRAM-SHA-256$4096:") and row[1:] == (False, False, False, False, False, 10)


def test_a_planner_reads_their_neighbourhood_and_the_public_layers(world):
    with world.login(world.person("planner", world.a_code)) as own:
        assert count(own, "parcels") == world.parcels_in_a
        assert world.count("parcels") > world.parcels_in_a
        assert count(own, "parcels", f"id = {world.parcel_b}") == count(own, "assets", f"id = {world.asset_b}") == 0
        for public in ("streets", "service_points", "neighbourhoods"):
            assert count(own, public) == world.count(public)
        # the history too: only rows of what they may read
        history = "SELECT count(*) FROM mahalle.history WHERE layer = 'parcels' AND feature_id = %s"
        assert own.execute(history, (world.parcel_b,)).fetchone()[0] == 0
        assert own.execute(history, (world.parcel_a,)).fetchone()[0] == 1


def test_a_planner_edits_only_in_their_neighbourhood(world):
    name = world.person("planner", world.a_code)
    with world.login(name) as own:
        assert own.execute("UPDATE parcels SET note = 'checked' WHERE id = %s", (world.parcel_a,)).rowcount == 1
        assert own.execute("SELECT updated_by FROM parcels WHERE id = %s", (world.parcel_a,)).fetchone()[0] == name
        actor = world.admin.execute(
            "SELECT actor FROM mahalle.history WHERE layer = 'parcels' AND feature_id = %s ORDER BY id DESC LIMIT 1",
            (world.parcel_a,),
        ).fetchone()[0]
        assert actor == name

        assert own.execute("UPDATE parcels SET note = 'x' WHERE id = %s", (world.parcel_b,)).rowcount == 0
        assert own.execute("DELETE FROM parcels WHERE id = %s", (world.parcel_b,)).rowcount == 0
        # moving a feature out of their neighbourhood (the messages: the next test)
        refused(own, "UPDATE parcels SET geom = %s WHERE id = %s", (PARCEL_IN_B, world.parcel_a))
        refused(own, "UPDATE parcels SET neighbourhood_id = %s WHERE id = %s", (world.b, world.parcel_a))
        message = refused(own, "INSERT INTO parcels (geom) VALUES (%s)", (PARCEL_IN_B,))
        assert (
            message
            == f"you may not add parcels in neighbourhood TEST-B (Test B) (your roles: planner in {world.a_code})"
        )

        new = own.execute(
            "INSERT INTO assets (kind, geom) VALUES ('tree', %s) RETURNING id, created_by, neighbourhood_id", (IN_A,)
        ).fetchone()
        assert new[1:] == (name, world.a)
        assert own.execute("DELETE FROM assets WHERE id = %s", (new[0],)).rowcount == 1
    assert (
        world.admin.execute("SELECT neighbourhood_id FROM parcels WHERE id = %s", (world.parcel_a,)).fetchone()[0]
        == world.a
    )
    assert world.count("parcels", f"neighbourhood_id = {world.b}") == 1


def test_a_refused_move_names_the_neighbourhood(world):
    """Row-level security would refuse these in PostgreSQL's words; the database says where and why."""
    with world.login(world.person("planner", world.a_code)) as own:
        message = refused(own, "UPDATE parcels SET geom = %s WHERE id = %s", (PARCEL_IN_B, world.parcel_a))
        assert message == (
            f"you may not move parcels feature {world.parcel_a} into neighbourhood TEST-B (Test B) "
            f"(your roles: planner in {world.a_code})"
        )
        message = refused(own, "UPDATE parcels SET neighbourhood_id = %s WHERE id = %s", (world.b, world.parcel_a))
        assert "into neighbourhood TEST-B" in message
        message = refused(own, "INSERT INTO parcels (geom) VALUES (%s) RETURNING id", (PARCEL_IN_B,))
        assert "TEST-B (Test B)" in message


def test_a_planner_may_not_change_boundaries(world):
    with world.login(world.person("planner", world.a_code)) as own:
        assert "neighbourhoods" in refused(own, "UPDATE neighbourhoods SET office = 'x' WHERE id = %s", (world.a,))


def test_a_field_worker_changes_only_field_attributes_and_adds_observations(world):
    name = world.person("field", world.a_code)
    with world.login(name) as own:
        assert own.execute("UPDATE assets SET condition = 'good' WHERE id = %s", (world.asset_a,)).rowcount == 1
        assert own.execute("SELECT updated_by FROM assets WHERE id = %s", (world.asset_a,)).fetchone()[0] == name
        message = refused(own, "UPDATE assets SET kind = 'bench' WHERE id = %s", (world.asset_a,))
        assert "you may change only condition, note of assets" in message
        refused(own, "UPDATE assets SET geom = ST_Translate(geom, 0.0001, 0) WHERE id = %s", (world.asset_a,))
        refused(own, "DELETE FROM assets WHERE id = %s", (world.asset_a,))
        refused(own, "INSERT INTO assets (kind, geom) VALUES ('tree', %s)", (IN_A,))
        refused(own, "UPDATE parcels SET note = 'x' WHERE id = %s", (world.parcel_a,))  # no field attributes

        uid = uuid.uuid4()
        observed = own.execute(
            "INSERT INTO observations (uid, category, captured_at, geom) VALUES (%s, 'damage', now(), %s) "
            "RETURNING neighbourhood_id, created_by",
            (uid, IN_A),
        ).fetchone()
        assert observed == (world.a, name)
        assert "TEST-B" in refused(
            own, "INSERT INTO observations (category, captured_at, geom) VALUES ('damage', now(), %s)", (IN_B,)
        )
    assert world.admin.execute("SELECT kind FROM assets WHERE id = %s", (world.asset_a,)).fetchone()[0] != "bench"


def test_a_viewer_changes_nothing(world):
    with world.login(world.person("viewer")) as own:
        assert count(own, "parcels") == world.count("parcels")
        street = own.execute("SELECT min(id) FROM streets").fetchone()[0]
        for statement, params in [
            (
                "INSERT INTO streets (name, geom) VALUES ('x', %s)",
                (STREET_IN_A,),
            ),
            ("UPDATE streets SET name = 'x' WHERE id = %s", (street,)),
            ("DELETE FROM streets WHERE id = %s", (street,)),
            ("UPDATE parcels SET note = 'x' WHERE id = %s", (world.parcel_a,)),
            ("DELETE FROM parcels WHERE id = %s", (world.parcel_b,)),
            ("INSERT INTO observations (category, captured_at, geom) VALUES ('damage', now(), %s)", (IN_A,)),
            ("UPDATE assets SET condition = 'good' WHERE id = %s", (world.asset_a,)),
            ("UPDATE neighbourhoods SET office = 'x' WHERE id = %s", (world.a,)),
        ]:
            refused(own, statement, params)


def test_what_a_session_sets_for_itself_changes_nothing(world):
    name = world.person("planner", world.a_code)
    everything = '{"user": "admin", "roles": [{"role": "admin", "n": null}]}'
    with world.login(name) as own:
        own.execute("SELECT set_config('mahalle.grants', %s, false)", (everything,))
        own.execute("SELECT set_config('mahalle.actor', 'someone-else', false)")
        own.execute("SELECT set_config('mahalle.restoring', 'on', false)")
        assert count(own, "parcels") == world.parcels_in_a
        assert "TEST-B" in refused(own, "INSERT INTO parcels (geom) VALUES (%s)", (PARCEL_IN_B,))
        own.execute("UPDATE parcels SET note = 'mine' WHERE id = %s", (world.parcel_a,))
        stamp = own.execute("SELECT mahalle.actor(), updated_by FROM parcels WHERE id = %s", (world.parcel_a,))
        assert stamp.fetchone() == (name, name)
        stamped = own.execute(
            "INSERT INTO assets (kind, geom, version, created_by) VALUES ('tree', %s, 7, 'someone-else') "
            "RETURNING version, created_by",
            (IN_A,),
        ).fetchone()
        assert stamped == (1, name)


def test_a_login_reaches_no_private_table_or_admin_function(world):
    with world.login(world.person("admin")) as own:  # even an administrator's own login
        assert count(own, "parcels") == world.count("parcels")
        for table in ("users", "user_roles", "api_tokens", "sessions", "audit_log"):
            refused(own, sql.SQL("SELECT count(*) FROM mahalle.{}").format(sql.Identifier(table)).as_string(own))
        forged = "INSERT INTO mahalle.history (layer, feature_id, version, operation, actor) VALUES (%s, 1, 99, %s, %s)"
        refused(own, forged, ("parcels", "UPDATE", "forged"))
        refused(own, "UPDATE mahalle.history SET actor = 'forged'")
        refused(own, "UPDATE mahalle.layer_registry SET public = true")
        refused(own, """SELECT mahalle.create_custom_layer('{"name": "evil", "geometry_type": "Point"}')""")
        refused(own, "SELECT mahalle.set_layer_public('parcels', true)")
        refused(own, "SELECT mahalle.drop_custom_layer('parcels')")
        refused(own, "SET ROLE mahalle_app")
    assert (
        world.admin.execute("SELECT public FROM mahalle.layer_registry WHERE name = 'parcels'").fetchone()[0] is False
    )


def test_a_role_change_applies_on_the_next_statement(world):
    name = world.person("planner", world.a_code)
    with world.login(name) as own:
        assert count(own, "parcels") == world.parcels_in_a
        store.change_roles(world.app, name, [store.Grant("planner", "TEST-B")], replace=True)
        assert own.execute("SELECT array_agg(DISTINCT neighbourhood_id) FROM parcels").fetchone()[0] == [world.b]
        assert own.execute("UPDATE parcels SET note = 'b' WHERE id = %s", (world.parcel_b,)).rowcount == 1
        store.change_roles(world.app, name, [store.Grant("planner")], revoke=True)
        assert count(own, "parcels") == 0
        assert count(own, "streets") == world.count("streets")


def test_an_inactive_or_removed_user_sees_only_public_layers(world):
    name = world.person("admin")
    with world.login(name) as own:
        world.app.execute("UPDATE mahalle.users SET active = false WHERE name = %s", (name,))
        assert count(own, "parcels") == 0
        assert count(own, "streets") == world.count("streets")
        refused(own, "UPDATE streets SET name = 'x' WHERE id = (SELECT min(id) FROM streets)")
        world.app.execute("UPDATE mahalle.users SET active = true WHERE name = %s", (name,))
        assert count(own, "parcels") == world.count("parcels")
        assert store.remove_user(world.app, name) == LOGINS + name  # the login is left for the caller to drop
        assert count(own, "parcels") == 0
        assert count(own, "assets") == 0
        assert count(own, "service_points") == world.count("service_points")
        refused(own, "INSERT INTO observations (category, captured_at, geom) VALUES ('damage', now(), %s)", (IN_A,))


# --- what an attacker tried (a review of this work) --------------------------------------------------------


def test_an_intervention_must_lie_within_the_planners_neighbourhoods(world):
    """Completing it makes assets at its points: none may land in a neighbourhood the planner may not edit."""
    with world.login(world.person("planner", world.a_code)) as own:
        reaching = "SRID=4326;MULTIPOINT((24.9430 60.1700), (24.9650 60.1670))"
        message = refused(own, "INSERT INTO interventions (title, kind, geom) VALUES ('Trees', 'tree_planting', %s)",
                          (reaching,))  # fmt: skip
        assert "wholly within" in message
        iid = own.execute("INSERT INTO interventions (title, kind, geom) VALUES ('Trees', 'tree_planting', %s) "
                          "RETURNING id", ("SRID=4326;MULTIPOINT((24.9430 60.1700))",)).fetchone()[0]  # fmt: skip
        assert "wholly within" in refused(own, "UPDATE interventions SET geom = %s WHERE id = %s", (reaching, iid))


def test_a_cascade_never_deletes_in_another_neighbourhood(world):
    parent = world.app.execute("INSERT INTO tasks (title, domain, neighbourhood_id) VALUES ('Parent', 'social', %s) "
                               "RETURNING id", (world.a,)).fetchone()[0]  # fmt: skip
    child = world.app.execute(
        "INSERT INTO tasks (title, domain, neighbourhood_id, parent_id) VALUES ('Child', 'social', %s, %s) "
        "RETURNING id",
        (world.b, parent),
    ).fetchone()[0]
    with world.login(world.person("planner", world.a_code)) as own, own.transaction():
        own.execute("SET LOCAL mahalle.cascade = on")
        assert "TEST-B" in refused(own, "DELETE FROM tasks WHERE id = %s", (parent,))
    assert world.count("tasks", f"id IN ({parent}, {child})") == 2


def test_hidden_rows_never_meet_a_trigger_whose_message_could_describe_them(world):
    with world.login(world.person("planner", world.a_code)) as own:
        own.execute("UPDATE parcels SET note = 'seen'")  # no WHERE: only the rows the planner can read
        own.execute("DELETE FROM task_links")
        assert world.count("parcels", f"id = {world.parcel_b} AND note = 'seen'") == 0
        assert (
            own.execute("SELECT mahalle.feature_neighbourhood('parcels', %s)", (world.parcel_b,)).fetchone()[0] is None
        )


def test_links_and_attachments_cannot_reach_hidden_features(world):
    task = world.app.execute("INSERT INTO tasks (title, domain, neighbourhood_id) VALUES ('T', 'social', %s) "
                             "RETURNING id", (world.a,)).fetchone()[0]  # fmt: skip
    with world.login(world.person("planner", world.a_code)) as own:
        assert "not one you may see" in refused(
            own,
            "INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'parcels', %s)",
            (task, world.parcel_b),
        )
        own.execute(
            "INSERT INTO attachments (layer, feature_id, filename, media_type, size_bytes, sha256, data) "
            "VALUES ('parcels', %s, 'a.jpg', 'image/jpeg', 1, repeat('0', 64), 'x')",
            (world.parcel_a,),
        )
        refused(own, "UPDATE attachments SET feature_id = %s", (world.parcel_b,))
        assert world.count("attachments", f"feature_id = {world.parcel_b}") == 0
        assert "not a path" in refused(
            own,
            "INSERT INTO attachments (layer, feature_id, filename, media_type, size_bytes, sha256, path) "
            "VALUES ('parcels', %s, 'p', 'text/plain', 1, repeat('0', 64), '/etc/passwd')",
            (world.parcel_a,),
        )


def test_only_an_admin_of_every_neighbourhood_redraws_boundaries(world):
    with world.login(world.person("admin", world.a_code)) as own:
        refused(own, "UPDATE neighbourhoods SET name = 'Mine' WHERE id = %s", (world.a,))
        refused(own, "INSERT INTO neighbourhoods (code, name, geom) VALUES ('NEW', 'New', %s)", (B_POLYGON,))


def test_a_login_cannot_name_the_cause_the_history_records(world):
    with world.login(world.person("planner", world.a_code)) as own:
        own.execute("SELECT set_config('mahalle.cause', 'intervention 1 completed (forged)', false)")
        own.execute("UPDATE parcels SET note = 'x' WHERE id = %s", (world.parcel_a,))
    cause = world.admin.execute("SELECT cause FROM mahalle.history WHERE layer = 'parcels' AND feature_id = %s "
                                "ORDER BY id DESC LIMIT 1", (world.parcel_a,)).fetchone()[0]  # fmt: skip
    assert cause is None


def _observation(conn: psycopg.Connection, where: str, **extra: str) -> int:
    columns = ", ".join(["category", "captured_at", "geom", *extra])
    values = ", ".join(["'waste'", "now()", "%s", *(["%s"] * len(extra))])
    return conn.execute(f"INSERT INTO observations ({columns}) VALUES ({values}) RETURNING id",
                        (where, *extra.values())).fetchone()[0]  # fmt: skip


def test_field_logins_report_observations_but_only_planners_review_them(world):
    field = world.person("field", world.a_code)
    with world.login(field) as own:
        oid = _observation(own, IN_A, observer="someone else")
        assert world.admin.execute("SELECT review_status, created_by, observer FROM observations WHERE id = %s",
                                   (oid,)).fetchone() == ("new", field, "someone else")  # fmt: skip
        assert "only a planner" in refused(own, "UPDATE observations SET review_status = 'accepted' WHERE id = %s",
                                           (oid,))  # fmt: skip
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _observation(own, IN_A, review_status="converted")
    with world.login(world.person("planner", world.a_code)) as planner:
        planner.execute("UPDATE observations SET review_status = 'rejected', review_note = 'seen' WHERE id = %s",
                        (oid,))  # fmt: skip
    assert world.count("observations", f"id = {oid} AND review_status = 'rejected'") == 1


def _as(conn: psycopg.Connection, name: str, role: str, neighbourhood: int | None) -> None:
    """The application connection acting for a user, as ``api.identity.principal.bind`` makes it."""
    grants = json.dumps({"user": name, "roles": {role: None if neighbourhood is None else [neighbourhood]}})
    conn.execute("SELECT set_config('mahalle.grants', %s, false), set_config('mahalle.actor', %s, false)",
                 (grants, name))  # fmt: skip


def _conflict_row(conn: psycopg.Connection, neighbourhood: int) -> int:
    return conn.execute(
        "INSERT INTO field_changes (uid, source, op, layer, feature_id, base_version, neighbourhood_id, payload, "
        "payload_sha256, state, created_by) VALUES (%s, 'device', 'update', 'parcels', 1, 1, %s, '{}', %s, "
        "'conflict', 'the boss') RETURNING id",
        (uuid.uuid4(), neighbourhood, "0" * 64),
    ).fetchone()[0]


def test_field_changes_are_recorded_by_the_app_for_their_authors_and_planners(world):
    field = world.person("field", world.a_code)
    with world.login(field) as own:
        refused(
            own,
            "INSERT INTO field_changes (uid, source, op, layer, payload, payload_sha256, state) "
            "VALUES (gen_random_uuid(), 'device', 'delete', 'assets', '{}', repeat('0', 64), 'conflict')",
        )
    _as(world.app, field, "field", world.a)
    in_b = _conflict_row(world.app, world.b)  # who sent it is who is asking, whatever the row says
    assert world.admin.execute("SELECT created_by FROM field_changes WHERE id = %s", (in_b,)).fetchone()[0] == field
    with world.login(field) as own:
        assert count(own, "field_changes", f"id = {in_b}") == 1, "their own"
        refused(own, "UPDATE field_changes SET state = 'kept_field'")
    with world.login(world.person("field", "TEST-B")) as other:
        assert count(other, "field_changes", f"id = {in_b}") == 1, "it lies in their neighbourhood"
    with world.login(world.person("field", world.a_code)) as colleague:
        assert count(colleague, "field_changes", f"id = {in_b}") == 0, "someone else's, elsewhere"
    _as(world.app, "pb", "planner", world.b)
    in_a = _conflict_row(world.app, world.a)
    assert world.app.execute("UPDATE field_changes SET state = 'kept_field' WHERE id = %s", (in_a,)).rowcount == 0
    with pytest.raises(psycopg.errors.CheckViolation):
        world.app.execute("UPDATE field_changes SET payload = '{\"x\": 1}' WHERE id = %s", (in_b,))
    world.app.execute("UPDATE field_changes SET state = 'kept_server' WHERE id = %s", (in_b,))
    assert world.admin.execute("SELECT state, resolved_by FROM field_changes WHERE id = %s",
                               (in_b,)).fetchone() == ("kept_server", "pb")  # fmt: skip


def test_uploads_in_progress_are_their_senders_alone(world):
    first, second = world.person("field", world.a_code), world.person("field", world.a_code)
    with world.login(first) as own:
        refused(own, "INSERT INTO field_uploads (uid, meta, size_bytes, sha256) "
                     "VALUES (gen_random_uuid(), '{}', 10, repeat('a', 64))")  # fmt: skip
    _as(world.app, first, "field", world.a)
    world.app.execute("INSERT INTO field_uploads (uid, meta, size_bytes, sha256) "
                      "VALUES (gen_random_uuid(), '{}', 10, repeat('a', 64))")  # fmt: skip
    _as(world.app, second, "field", world.a)
    assert count(world.app, "field_uploads") == 0
    assert world.app.execute("UPDATE field_uploads SET received = 10").rowcount == 0


def test_every_trigger_function_runs_as_the_owner(world):
    """Migrations after identity (0007) keep the rule: no trigger function runs with the rights of whoever edits."""
    loose = world.admin.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'mahalle'::regnamespace "
        "AND p.prorettype = 'trigger'::regtype AND NOT (p.prosecdef AND p.proconfig IS NOT NULL)"
    ).fetchall()
    assert loose == []
