"""The vector tile cache (gis/tile_cache.py, layers/sql/tile_cache.sql): a second request is a hit; an insert, a move
and a delete — from the API and from a person's own database login, as psql or QGIS would — drop exactly the kept
tiles their old and new geometries touch, and the next request shows the edit; a reader never gets the tile kept
for another scope; a tile made while an edit is in flight is not kept; the size stays under its limit."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.identity import store
from core.db import with_role
from core.roles import OWNER_ROLE
from gis import tile_cache
from gis.tiles import tile, tile_variant
from layers import migrate
from layers.catalogue import load_catalogue
from layers.custom import create_custom_layer, drop_custom_layer, layer_from_definition
from tests.api.ogc.conftest import make_app
from tests.auth import ADMIN_HEADERS, token_for
from tests.layers import test_row_security
from tests.layers.test_row_security import World

world = test_row_security.world  # the fixture: two neighbourhoods, people's database logins

TMS = morecantile.tms.get("WebMercatorQuad")
Z = 17
OLD = (24.9413, 60.1713)  # where a new workshop is put, then moved from
NEW = (24.9470, 60.1745)  # where it moves to
FAR = (24.9401477, 60.1681034)  # a demo workshop's tile, touched by none of the edits
GEOJSON = {"Content-Type": "application/geo+json"}

Tile = tuple[int, int, int]


def address(lon: float, lat: float, z: int = Z) -> Tile:
    t = TMS.tile(lon, lat, z)
    return t.z, t.x, t.y


def url(cid: str, t: Tile) -> str:
    z, x, y = t
    return f"/ogc/collections/{cid}/tiles/WebMercatorQuad/{z}/{y}/{x}"


def features(response, layer: str) -> dict[int, dict]:
    """The tile's features by id ({} for an empty tile)."""
    if response.status_code == 204:
        return {}
    assert response.status_code == 200, response.text
    decoded = mapbox_vector_tile.decode(response.content)
    return {f["id"]: f["properties"] for f in decoded.get(layer, {}).get("features", [])}


def kept(db: psycopg.Connection, layer: str) -> set[Tile]:
    rows = db.execute("SELECT z, x, y FROM mahalle.tile_cache WHERE layer = %s", (layer,)).fetchall()
    return {tuple(r) for r in rows}


def prime(client: TestClient, cid: str, tiles: list[Tile]) -> None:
    """Each tile requested until it is kept: the request after a miss is a hit with the same bytes."""
    for t in tiles:
        first = client.get(url(cid, t))
        assert first.headers["X-Tile-Cache"] in ("hit", "miss")
        second = client.get(url(cid, t))
        assert second.headers["X-Tile-Cache"] == "hit", t
        assert second.content == first.content and second.headers.get("ETag") == first.headers.get("ETag")


@pytest.fixture
def demo(demo_db_url: str) -> Iterator[tuple[TestClient, psycopg.Connection]]:
    with (
        TestClient(make_app(demo_db_url), headers=ADMIN_HEADERS) as client,
        psycopg.connect(demo_db_url, autocommit=True) as db,
    ):
        yield client, db


def test_the_places_are_apart():
    old, new, far = address(*OLD), address(*NEW), address(*FAR)
    for a, b in ((old, new), (old, far), (new, far)):  # not even neighbours: no buffer reaches across
        assert max(abs(a[1] - b[1]), abs(a[2] - b[2])) >= 2


def test_a_second_request_is_a_hit(demo):
    client, db = demo
    t = address(*FAR)
    first = client.get(url("workshops", t))
    assert first.headers["X-Tile-Cache"] == "miss" and features(first, "workshops")
    second = client.get(url("workshops", t))
    assert second.headers["X-Tile-Cache"] == "hit"
    assert second.content == first.content and second.headers["ETag"] == first.headers["ETag"]
    assert client.get(url("workshops", t), headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert kept(db, "workshops") == {t}
    empty = address(-60.0, -30.0, 14)  # an empty tile is kept too (as no bytes): 204 from the cache
    assert client.get(url("streets", empty)).status_code == 204
    again = client.get(url("streets", empty))
    assert again.status_code == 204 and again.headers["X-Tile-Cache"] == "hit"


def _edits_drop_exactly_their_tiles(
    client: TestClient,
    db: psycopg.Connection,
    insert: Callable[[tuple[float, float]], int],
    move: Callable[[int, tuple[float, float]], None],
    delete: Callable[[int], None],
) -> None:
    old, new, far = address(*OLD), address(*NEW), address(*FAR)
    prime(client, "workshops", [old, new, far])
    prime(client, "parcels", [old])  # another layer's tile at the same place
    assert kept(db, "workshops") == {old, new, far}

    fid = insert(OLD)
    assert kept(db, "workshops") == {new, far}  # the insert's tile only
    assert kept(db, "parcels") == {old}
    shown = client.get(url("workshops", old))
    assert shown.headers["X-Tile-Cache"] == "miss" and fid in features(shown, "workshops")
    assert client.get(url("workshops", far)).headers["X-Tile-Cache"] == "hit"
    prime(client, "workshops", [old])

    move(fid, NEW)
    assert kept(db, "workshops") == {far}  # the old and the new place
    assert fid not in features(client.get(url("workshops", old)), "workshops")
    assert fid in features(client.get(url("workshops", new)), "workshops")
    assert client.get(url("workshops", far)).headers["X-Tile-Cache"] == "hit"
    prime(client, "workshops", [old, new])

    delete(fid)
    assert kept(db, "workshops") == {old, far}
    gone = client.get(url("workshops", new))
    assert gone.headers["X-Tile-Cache"] == "miss" and fid not in features(gone, "workshops")
    assert kept(db, "parcels") == {old}  # no workshop edit touched another layer's tiles


def _feature(where: tuple[float, float], name: str) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(where)},
            "properties": {"kind": "scrap", "name": name}}  # fmt: skip


def test_api_edits_drop_exactly_the_tiles_they_touch(demo):
    client, db = demo
    items = "/ogc/collections/workshops/items"

    def insert(where):
        created = client.post(items, json=_feature(where, "API yard"), headers=GEOJSON)
        assert created.status_code == 201, created.text
        return int(created.headers["Location"].rsplit("/", 1)[1])

    def move(fid, where):
        moved = client.put(f"{items}/{fid}", json=_feature(where, "API yard"), headers=GEOJSON)
        assert moved.status_code == 200, moved.text

    def delete(fid):
        assert client.delete(f"{items}/{fid}").status_code == 204

    _edits_drop_exactly_their_tiles(client, db, insert, move, delete)


def test_psql_edits_by_a_persons_login_drop_exactly_the_tiles_they_touch(world: World):
    """A planner's own database login (what `mahalle user db-login` prints, as psql or QGIS use it), on its own
    connection: the database drops the tiles, whoever writes."""
    point = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
    with (
        TestClient(make_app(world.url), headers=ADMIN_HEADERS) as client,
        world.login(world.person("planner", world.a_code)) as editor,
    ):

        def insert(where):
            sql = f"INSERT INTO workshops (kind, name, geom) VALUES ('scrap', 'psql yard', {point}) RETURNING id"
            return editor.execute(sql, where).fetchone()[0]

        def move(fid, where):
            assert editor.execute(f"UPDATE workshops SET geom = {point} WHERE id = %s", (*where, fid)).rowcount == 1

        def delete(fid):
            assert editor.execute("DELETE FROM workshops WHERE id = %s", (fid,)).rowcount == 1

        _edits_drop_exactly_their_tiles(client, world.app, insert, move, delete)
        # and the login itself may not read or fill the cache
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            editor.execute("SELECT count(*) FROM mahalle.tile_cache")


def test_an_attribute_change_and_a_multi_row_statement_drop_their_tiles(demo):
    client, db = demo
    old, new, far = address(*OLD), address(*NEW), address(*FAR)
    prime(client, "workshops", [old, new, far])
    far_id = next(iter(features(client.get(url("workshops", far)), "workshops")))
    db.execute("UPDATE workshops SET name = 'Renamed' WHERE id = %s", (far_id,))
    assert kept(db, "workshops") == {old, new}
    assert features(client.get(url("workshops", far)), "workshops")[far_id]["name"] == "Renamed"
    prime(client, "workshops", [far])
    db.execute(
        "INSERT INTO workshops (kind, name, geom) SELECT 'scrap', 'bulk', ST_SetSRID(ST_MakePoint(x, y), 4326) "
        "FROM (VALUES (%s, %s), (%s, %s)) v (x, y)",
        (*OLD, *NEW),
    )
    assert kept(db, "workshops") == {far}


def _token(world: World, code: str) -> dict[str, str]:
    return token_for(world.app, f"viewer-{uuid.uuid4().hex[:8]}", store.Grant("viewer", code))


def test_a_reader_with_a_narrower_scope_never_gets_another_scopes_tile(world: World):
    b_code = world.admin.execute("SELECT code FROM neighbourhoods WHERE id = %s", (world.b,)).fetchone()[0]
    t = address(24.95, 60.167, 9)  # both neighbourhoods
    everything = {world.asset_a, world.asset_b}
    with TestClient(make_app(world.url)) as client:
        admin = client.get(url("assets", t), headers=ADMIN_HEADERS)
        assert admin.headers["X-Tile-Cache"] == "miss" and everything <= set(features(admin, "assets"))
        assert client.get(url("assets", t), headers=ADMIN_HEADERS).headers["X-Tile-Cache"] == "hit"
        for code, own, other in ((world.a_code, world.asset_a, world.asset_b), (b_code, world.asset_b, world.asset_a)):
            headers = _token(world, code)
            for expected in ("miss", "hit"):  # their own copy, never the administrator's or the other reader's
                seen = client.get(url("assets", t), headers=headers)
                assert seen.headers["X-Tile-Cache"] == expected
                ids = set(features(seen, "assets"))
                assert own in ids and other not in ids
                assert seen.headers["ETag"] != admin.headers["ETag"]
        again = client.get(url("assets", t), headers=ADMIN_HEADERS)
        assert again.headers["X-Tile-Cache"] == "hit" and again.content == admin.content
        scopes = world.app.execute("SELECT scope FROM mahalle.tile_cache WHERE layer = 'assets' ORDER BY 1").fetchall()
        assert [s for (s,) in scopes] == sorted(["all", f"n:{world.a}", f"n:{world.b}"])
        # the server itself reads everything; a reader of no neighbourhood has a key of their own
        for grants, key in (("", "all"), ('{"user": "nobody", "roles": {}}', "n:"),
                            ('{"user": "x", "roles": {"admin": null}}', "all"),
                            (f'{{"user": "y", "roles": {{"viewer": [{world.b}, {world.a}, {world.b}]}}}}',
                             f"n:{world.a},{world.b}")):  # fmt: skip
            world.app.execute("SELECT set_config('mahalle.grants', %s, false)", (grants,))
            assert world.app.execute("SELECT mahalle.tile_scope('assets')").fetchone()[0] == key
        world.app.execute("SELECT set_config('mahalle.grants', '', false)")
        # anonymous readers of a public layer share the one copy of everything
        anonymous = client.get(url("streets", t))
        assert anonymous.headers["X-Tile-Cache"] == "miss"
        assert client.get(url("streets", t), headers=ADMIN_HEADERS).headers["X-Tile-Cache"] == "hit"
        # a change of who may read a layer drops its tiles (the scope of every reader changes)
        world.admin.execute("SELECT mahalle.set_layer_public('assets', true)")
        assert kept(world.app, "assets") == set()


def test_a_tile_made_while_an_edit_is_in_flight_is_served_but_not_kept(demo, demo_db_url):
    client, db = demo
    far = address(*FAR)
    fid = next(iter(features(client.get(url("workshops", far)), "workshops")))
    db.execute("DELETE FROM mahalle.tile_cache")
    with psycopg.connect(demo_db_url) as editor:  # a transaction left open, as QGIS holds one while saving
        editor.execute("UPDATE workshops SET name = 'In flight' WHERE id = %s", (fid,))
        for _ in range(2):
            during = client.get(url("workshops", far))
            assert during.headers["X-Tile-Cache"] == "miss"
            assert features(during, "workshops")[fid]["name"] != "In flight"  # not committed yet
            assert kept(db, "workshops") == set()  # its commit could come too late to drop it: not kept
        editor.commit()
    after = client.get(url("workshops", far))
    assert after.headers["X-Tile-Cache"] == "miss" and features(after, "workshops")[fid]["name"] == "In flight"
    assert client.get(url("workshops", far)).headers["X-Tile-Cache"] == "hit"


def test_edits_never_wait_for_each_other_and_a_rolled_back_drop_still_counts(demo, demo_db_url):
    client, db = demo
    far = address(*FAR)
    fid = next(iter(features(client.get(url("workshops", far)), "workshops")))
    prime(client, "workshops", [far])
    with psycopg.connect(demo_db_url) as first, psycopg.connect(demo_db_url, autocommit=True) as second:
        first.execute("UPDATE workshops SET name = 'Rolled back' WHERE id = %s", (fid,))  # drops the tile, uncommitted
        second.execute("SET statement_timeout = '3s'")
        new_id = second.execute(
            "INSERT INTO workshops (kind, name, geom) VALUES ('scrap', 'Second', ST_SetSRID(ST_MakePoint(%s, %s), "
            "4326)) RETURNING id",
            FAR,
        ).fetchone()[0]  # the tile's row is locked by the first edit: skipped, not waited for
        first.rollback()  # the tile's row is back, but retired
    after = client.get(url("workshops", far))
    assert after.headers["X-Tile-Cache"] == "miss"
    shown = features(after, "workshops")
    assert new_id in shown and shown[fid]["name"] != "Rolled back"
    assert client.get(url("workshops", far)).headers["X-Tile-Cache"] == "hit"


def test_a_writer_whose_snapshot_predates_a_kept_tile_still_drops_it(demo, demo_db_url):
    """A REPEATABLE READ writer's DELETE cannot see a tile kept after its snapshot: its edit retires every tile kept
    before it instead (a generation), and the next request shows the edit."""
    client, db = demo
    far = address(*FAR)
    fid = next(iter(features(client.get(url("workshops", far)), "workshops")))
    db.execute("DELETE FROM mahalle.tile_cache")
    with psycopg.connect(demo_db_url) as editor:
        editor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        editor.execute("SELECT count(*) FROM workshops")  # the snapshot is taken here
        prime(client, "workshops", [far])
        editor.execute("UPDATE workshops SET name = 'Snapshot' WHERE id = %s", (fid,))
        editor.commit()
    after = client.get(url("workshops", far))
    assert after.headers["X-Tile-Cache"] == "miss" and features(after, "workshops")[fid]["name"] == "Snapshot"
    assert client.get(url("workshops", far)).headers["X-Tile-Cache"] == "hit"  # the stale row was replaced


def test_an_edit_committed_between_the_lookup_and_the_keep_wins_where_it_reaches(demo_db_url):
    with psycopg.connect(demo_db_url, autocommit=True) as conn, psycopg.connect(demo_db_url, autocommit=True) as other:
        layer = load_catalogue(conn)["workshops"]
        z, x, y = address(*FAR)
        variant = tile_variant(layer, z, 1000)
        found = tile_cache.lookup(conn, "workshops", z, x, y, variant)
        assert not found.hit and found.epoch is not None
        data, truncated = tile(conn, layer, z, x, y, 1000)
        other.execute("UPDATE workshops SET name = 'Meanwhile' WHERE ST_DWithin(geom, "
                      "ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.0001)", FAR)  # fmt: skip
        assert not tile_cache.keep(conn, "workshops", z, x, y, variant, found.epoch, data, truncated, 16)
        assert kept(conn, "workshops") == set()
        found = tile_cache.lookup(conn, "workshops", z, x, y, variant)
        data, truncated = tile(conn, layer, z, x, y, 1000)
        assert "Meanwhile" in str(mapbox_vector_tile.decode(data))
        # edits that do not reach the tile (elsewhere, or another layer here) do not stop it being kept
        point = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
        other.execute(f"INSERT INTO workshops (kind, name, geom) VALUES ('scrap', 'Elsewhere', {point})", OLD)
        other.execute(f"INSERT INTO assets (kind, geom) VALUES ('bench', {point})", FAR)
        assert tile_cache.keep(conn, "workshops", z, x, y, variant, found.epoch, data, truncated, 16)
        assert tile_cache.lookup(conn, "workshops", z, x, y, variant).data == data


def test_the_notes_of_old_edits_go_and_a_reader_who_looked_before_keeps_nothing(demo_db_url):
    with (
        psycopg.connect(demo_db_url, autocommit=True) as conn,
        psycopg.connect(with_role(demo_db_url, OWNER_ROLE), autocommit=True) as owner,
    ):
        update = "UPDATE workshops SET name = name || '.' WHERE id = (SELECT min(id) FROM workshops)"
        z, x, y = address(*OLD)  # no workshop edit here reaches it
        early = tile_cache.lookup(conn, "workshops", z, x, y, "gc-test")
        conn.execute(update)  # after the reader looked: noted, and its note goes below
        assert conn.execute("SELECT count(*) FROM mahalle.tile_cache_edits").fetchone()[0] >= 1
        owner.execute("UPDATE mahalle.tile_cache_edits SET at = at - interval '1 hour'")
        (e,) = owner.execute("SELECT last_value FROM mahalle.tile_cache_epoch").fetchone()
        owner.execute("SELECT setval('mahalle.tile_cache_epoch', %s)", (e + 255 - (e % 256),))  # the next is a GC
        conn.execute(update)
        assert conn.execute("SELECT count(*) FROM mahalle.tile_cache_edits").fetchone()[0] == 1  # only the last
        assert not tile_cache.keep(conn, "workshops", z, x, y, "gc-test", early.epoch, b"x", False, 16)
        late = tile_cache.lookup(conn, "workshops", z, x, y, "gc-test")
        assert tile_cache.keep(conn, "workshops", z, x, y, "gc-test", late.epoch, b"x", False, 16)


def test_eviction_keeps_the_size_under_the_limit(demo_db_url):
    limit_mb = 1
    size = 150_000
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        made = []
        for i in range(20):
            found = tile_cache.lookup(conn, "parcels", 20, i, 7, "eviction-test")
            assert tile_cache.keep(conn, "parcels", 20, i, 7, "eviction-test", found.epoch, os.urandom(size), False,
                                   limit_mb)  # fmt: skip
            made.append(i)
            total = conn.execute(
                "SELECT coalesce(sum(octet_length(data) + %s), 0) FROM mahalle.tile_cache", (tile_cache.ROW_OVERHEAD,)
            ).fetchone()[0]
            assert total <= limit_mb * 1024 * 1024
        remaining = [r[0] for r in conn.execute("SELECT x FROM mahalle.tile_cache ORDER BY x").fetchall()]
        assert remaining == made[-len(remaining) :] and len(remaining) == (1024 * 1024) // (size + 200)
        assert tile_cache.evict(conn, 0) == len(remaining)  # the oldest go first; a limit of 0 leaves nothing


def test_a_cache_of_zero_megabytes_is_off(demo_db_url):
    with (
        TestClient(make_app(demo_db_url, tile_cache_mb=0), headers=ADMIN_HEADERS) as client,
        psycopg.connect(demo_db_url, autocommit=True) as db,
    ):
        t = address(*FAR)
        responses = [client.get(url("workshops", t)) for _ in range(2)]
        assert all("X-Tile-Cache" not in r.headers for r in responses)
        assert responses[0].content == responses[1].content and responses[0].headers["ETag"]
        assert db.execute("SELECT count(*) FROM mahalle.tile_cache").fetchone()[0] == 0


def test_custom_layers_truncate_and_dropping_a_layer(demo_db_url):
    with psycopg.connect(demo_db_url, autocommit=True) as db:
        state = {"name": "state", "type": "text"}
        definition = {"name": "water_points", "geometry_type": "Point", "attributes": [state]}
        create_custom_layer(db, layer_from_definition(definition))
        triggers = db.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.water_points'::regclass AND tgname LIKE 'z95%%'"
        ).fetchall()
        assert {t for (t,) in triggers} == {f"z95_tiles_{e}" for e in ("insert", "update", "delete", "truncate")}
        db.execute("INSERT INTO water_points (state, geom) VALUES ('working', ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                   FAR)  # fmt: skip
        with TestClient(make_app(demo_db_url), headers=ADMIN_HEADERS) as client:
            prime(client, "water_points", [address(*FAR), address(*OLD)])
            prime(client, "workshops", [address(*FAR)])
            db.execute("INSERT INTO water_points (state, geom) VALUES ('dry', ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                       OLD)  # fmt: skip
            assert kept(db, "water_points") == {address(*FAR)}
            prime(client, "water_points", [address(*OLD)])
            with psycopg.connect(with_role(demo_db_url, OWNER_ROLE), autocommit=True) as owner:
                owner.execute("TRUNCATE water_points")
            assert kept(db, "water_points") == set() and kept(db, "workshops") == {address(*FAR)}
            assert client.get(url("water_points", address(*FAR))).status_code == 204
        drop_custom_layer(db, "water_points")
        assert kept(db, "water_points") == set()


FUNCTIONS = (
    "SELECT count(*) FROM pg_proc WHERE proname LIKE 'tile\\_%%' "
    "OR proname IN ('invalidate_tiles', 'add_tile_cache_triggers', 'drop_layer_tiles')"
)


def test_the_migration_goes_down_and_up(empty_db_url):
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        definition = {"name": "water_points", "geometry_type": "Point", "attributes": []}
        create_custom_layer(conn, layer_from_definition(definition))

    def state() -> tuple:
        with psycopg.connect(empty_db_url) as conn:
            triggers = conn.execute(
                "SELECT count(*), count(DISTINCT tgrelid) FROM pg_trigger WHERE tgname LIKE 'z95\\_tiles\\_%%'"
            ).fetchone()
            return (
                conn.execute("SELECT to_regclass('mahalle.tile_cache_edits') IS NOT NULL").fetchone()[0],
                triggers,
                conn.execute(FUNCTIONS).fetchone()[0],
                conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'z40_tile_cache'").fetchone()[0],
            )

    up = state()
    assert up[0] and up[1][0] == 4 * up[1][1] and up[1][1] > 10 and up[2] == 12 and up[3] == 1
    with psycopg.connect(empty_db_url) as conn:
        tables = conn.execute("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'z95%%'")
        assert "water_points" in {t for (t,) in tables.fetchall()}
    migrate.downgrade(empty_db_url, "0014")
    assert state() == (False, (0, 0), 0, 0)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:  # edits work without the cache
        conn.execute("INSERT INTO water_points (geom) VALUES ('SRID=4326;POINT(24.94 60.17)')")
    migrate.upgrade(empty_db_url)
    assert state() == up
