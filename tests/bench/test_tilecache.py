"""The tile cache part of the benchmark at a tiny scale: the bench's own ST_AsMVT statement (the independent limit)
holds every parcel of the buffered tile, as Mahalle's detail-zoom tile does; the file peer reads the tiles' bytes;
the hit rate counts the cache's answers.

No timing is asserted here: speed targets live in the benchmark (python -m bench), never in tests.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import psycopg
import pytest

from bench import city, tilecache, workload
from bench.measure import measure
from core.settings import Settings
from gis.tiles import tile
from layers.catalogue import core_catalogue


@pytest.fixture
def conn(admin_db_url: str) -> Iterator[psycopg.Connection]:
    """As the superuser, as the benchmark runs: it builds its city in a staging schema, with triggers off."""
    with psycopg.connect(admin_db_url, autocommit=True) as c:
        yield c


def _ids(data: bytes) -> set[int]:
    return {f["id"] for f in mapbox_vector_tile.decode(data).get("parcels", {}).get("features", [])}


def test_the_bench_statement_makes_mahalles_tile_and_the_files_are_read(conn, tmp_path: Path) -> None:
    city.generate(conn, 2_000, 5)
    city.load_neighbourhoods(conn)
    assert city.fast_load(conn, city.PARCELS) == 2_000
    city.fast_load(conn, core_catalogue()["service_points"])  # every attribute of the layer is staged
    tiles = workload.tiles(workload.extent(conn), 15, 3, random.Random(1))
    assert tiles
    root = tmp_path / "tiles"
    for t in tiles:
        low = workload.Tile(t.z - 3, t.x >> 3, t.y >> 3)
        for z_kind in (low, t):
            (query, params), *_ = workload.limit_tile_sql(z_kind)
            raw = bytes(conn.execute(query, params).fetchone()[0] or b"")
            # The bench's statement is its own: every parcel in the 64-px-buffered tile, whatever Mahalle keeps.
            (envelope,) = conn.execute(
                "SELECT ST_TileEnvelope(%s, %s, %s, margin => %s)", (z_kind.z, z_kind.x, z_kind.y, 64 / 4096)
            ).fetchone()
            near = {
                i
                for (i,) in conn.execute(
                    "SELECT id FROM public.parcels WHERE ST_Intersects(ST_Transform(geom, 3857), %s::geometry)",
                    (envelope,),
                )
            }
            assert _ids(raw) == near and near
        mine, _ = tile(conn, core_catalogue()["parcels"], t.z, t.x, t.y, Settings().max_tile_features)
        assert _ids(raw) == _ids(mine)  # at the detail zoom, Mahalle's tile holds every parcel there too
        path = tilecache.file_path(root, t)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(mine)
    assert _ids(mine)
    got = measure([tilecache.file_peer("read the tile's file", root, tiles)], 2, 0.2, 1, 0.0)
    st = got["read the tile's file"]["request"]
    assert st.requests > 0 and st.errors == 0
    assert tilecache.hit_rate(Counter(hit=3, miss=1)) == 0.75 and tilecache.hit_rate(Counter()) is None
