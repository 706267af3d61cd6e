"""Below the detail zoom a tile's tiny features are reduced by one statement written for speed (gis/tiles.py LOW_SQL:
one sort for the cells, runs found in the cells' order, run rectangles put in tile units directly). Its tiles must be
the very bytes of the rules' plain formulation (REFERENCE: each step as its own grouping, ST_AsMVTGeom on every
rectangle), on a dense block of mixed key values across a tile corner (cells and runs cut by the buffer's edge), with
large features and points."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from psycopg import sql

from gis.tiles import BUFFER, EXTENT, PIXELS, WEB_MERCATOR_HALF, _column, search_box, tile, tile_attributes
from layers.catalogue import load_catalogue
from layers.spec import Layer

TMS = morecantile.tms.get("WebMercatorQuad")
CORNER_OF = morecantile.Tile(1166, 593, 11)  # near the demo neighbourhood: its north-west corner is one at z11-z13

REFERENCE = sql.SQL(
    """
    WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
    c AS (
      SELECT t.id, {columns} t.geom, l.*
        FROM public.{table} t
             CROSS JOIN LATERAL (SELECT ST_Dimension(t.geom) AS dim, ST_XMin(bb) AS x0, ST_XMax(bb) AS x1,
                                        ST_YMin(bb) AS y0, ST_YMax(bb) AS y1
                                   FROM (SELECT box2d(t.geom) AS bb OFFSET 0) o OFFSET 0) l
       WHERE t.geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)
    ),
    m AS (
      SELECT c.*, cos(radians((y0 + y1) / 2)) AS cosine, (x1 - x0) * {deg} AS dx,
             (y1 - y0) * {deg} / cos(radians((y0 + y1) / 2)) AS dy,
             floor(((x0 + x1) / 2 * {deg} + {half}) / %(px)s) AS cx,
             floor(({half} - ({half} / pi() * ln(tan(pi() / 4 + radians(greatest(-85.0511, least(85.0511,
                   (y0 + y1) / 2))) / 2)))) / %(px)s) AS cy
        FROM c
    ),
    s AS (
      SELECT id, {names} dim, cx, cy, dx * dy AS weight, big,
             CASE WHEN big OR dim < 2 THEN geom END AS geom,
             CASE WHEN NOT big AND dim = 2 THEN ST_Area(geom) * {deg} * {deg} / cosine END AS area
        FROM (SELECT m.*, dx >= %(px)s OR dy >= %(px)s AS big FROM m) q
    ),
    parts AS (
      SELECT cx, cy, {key} AS key, count(*) AS n, sum(area) AS area
        FROM s WHERE NOT big AND dim = 2
       GROUP BY cx, cy, {key}
    ),
    cells AS (
      SELECT * FROM (
        SELECT DISTINCT ON (p.cx, p.cy) p.cx, p.cy, p.key, sum(p.n) OVER cell AS n, sum(p.area) OVER cell AS area
          FROM parts p
        WINDOW cell AS (PARTITION BY p.cx, p.cy)
         ORDER BY p.cx, p.cy, p.area DESC, p.key) d
       WHERE area >= %(px)s * %(px)s / 2
    ),
    runs AS (
      SELECT cy, key, min(cx) AS x0, max(cx) AS x1, sum(n)::integer AS n, sum(area) AS area
        FROM (SELECT cells.*, cx - row_number() OVER (PARTITION BY cy, key ORDER BY cx) AS run FROM cells) r
       GROUP BY cy, key, run
    ),
    feats AS (
      SELECT id, {names} NULL::integer AS _merged, ST_Simplify(ST_Transform(geom, 3857), %(pixel)s, true) AS g, weight
        FROM s WHERE big
      UNION ALL
      (SELECT DISTINCT ON (cx, cy) id, {names} NULL, ST_Transform(geom, 3857), weight
         FROM s WHERE NOT big AND dim < 2 ORDER BY cx, cy, weight DESC, id)
      UNION ALL
      SELECT NULL, {merged} n, ST_MakeEnvelope(x0 * %(px)s - {half}, {half} - (cy + 1) * %(px)s,
                                               (x1 + 1) * %(px)s - {half}, {half} - cy * %(px)s, 3857), area
        FROM runs
    ),
    hits AS (
      SELECT f.id, {fnames} f._merged, ST_AsMVTGeom(f.g, b.env, {extent}, {buffer}, true) AS geom
        FROM feats f, b
    ),
    kept AS (SELECT * FROM hits WHERE geom IS NOT NULL)
    SELECT ST_AsMVT(k.*, {name}, {extent}, 'geom', 'id' ORDER BY k.id, ST_AsBinary(k.geom)) FROM kept k
    """
)


def reference(conn: psycopg.Connection, layer: Layer, z: int, x: int, y: int) -> bytes:
    names = tile_attributes(layer, 0)
    key = layer.key_attribute

    def listed(items: list[sql.Composable]) -> sql.Composable:
        return sql.SQL("").join(sql.SQL("{}, ").format(i) for i in items)

    statement = REFERENCE.format(
        columns=listed([_column(layer, n) for n in names]),
        names=listed([sql.Identifier(n) for n in names]),
        fnames=listed([sql.SQL("f.{}").format(sql.Identifier(n)) for n in names]),
        merged=listed([sql.SQL("key") if n == key else sql.SQL("NULL") for n in names]),
        key=sql.Identifier(key) if key in names else sql.SQL("NULL::text"),
        half=sql.Literal(WEB_MERCATOR_HALF),
        deg=sql.Literal(WEB_MERCATOR_HALF / 180),
        extent=sql.Literal(EXTENT),
        buffer=sql.Literal(BUFFER),
        table=sql.Identifier(layer.name),
        name=sql.Literal(layer.name),
    )
    size = 2 * WEB_MERCATOR_HALF / 2**z
    params = {"z": z, "x": x, "y": y, "pixel": size / EXTENT, "px": size / PIXELS, **search_box(z, x, y)}
    return bytes(conn.execute(statement, params, binary=True).fetchone()[0] or b"")


def city_across_a_corner(conn: psycopg.Connection) -> None:
    """Tiny parcels (about 5 m, 6-7 m apart) around the corner (about 1 km each way), their tenure changing every few
    parcels and rows (cells of one, two and three key values; runs of every length), a few large parcels and a hundred
    points. The parcels differ in width: sums of identical areas in another order can differ in the last bit, and the
    plain statement's own pick between two such key values depended on the order its plan summed them in."""
    west, _, _, north = TMS.bounds(CORNER_OF)  # its north-west corner
    tenures = list(load_catalogue(conn)["parcels"].attribute("tenure").values)
    conn.execute(
        """INSERT INTO parcels (parcel_code, tenure, land_use, geom)
           SELECT 'p-' || i || '-' || j,
                  (%(t)s::text[])[1 + ((i + 900) / 3 + (j + 900) / 2 * (1 + i %% 2)) %% 3 + abs(i * j) %% 2],
                  'residential', ST_Multi(ST_MakeEnvelope(%(w)s + i * 0.00012, %(n)s + j * 0.00006,
                  %(w)s + i * 0.00012 + 0.0001 + ((i * 7 + j * 3) %% 13 + 13) * 0.0000005,
                  %(n)s + j * 0.00006 + 0.00005, 4326))
             FROM generate_series(-100, 99) i, generate_series(-100, 99) j""",
        {"w": west, "n": north, "t": tenures},
    )
    conn.execute(
        """INSERT INTO parcels (parcel_code, tenure, land_use, geom)
           SELECT 'large-' || k, 'public', 'park', ST_Multi(ST_MakeEnvelope(%(w)s + k * 0.006 - 0.01, %(n)s + 0.0095,
                  %(w)s + k * 0.006 - 0.007, %(n)s + 0.011, 4326))
             FROM generate_series(0, 3) k""",
        {"w": west, "n": north},
    )
    conn.execute(
        """INSERT INTO workshops (kind, name, status, geom)
           SELECT 'scrap', 'yard ' || i, (ARRAY['active', 'warned', 'sealed'])[1 + i %% 3],
                  ST_SetSRID(ST_MakePoint(%s + (i %% 10 - 5) * 0.0007, %s + (i / 10 - 5) * 0.0004), 4326)
             FROM generate_series(0, 99) i""",
        (west, north),
    )
    conn.execute("ANALYZE parcels")
    conn.execute("ANALYZE workshops")


@pytest.mark.parametrize("z", [10, 11, 12, 13])
def test_low_zoom_tiles_are_the_bytes_of_the_plain_statement(demo_db_url, z):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        city_across_a_corner(conn)
        layers = load_catalogue(conn)
        west, _, _, north = TMS.bounds(CORNER_OF)
        merged = 0
        for name in ("parcels", "workshops"):
            for t in TMS.tiles(west - 0.02, north - 0.01, west + 0.02, north + 0.015, [z]):  # around the block
                data, cut = tile(conn, layers[name], z, t.x, t.y, max_features=200_000)
                assert not cut and data == reference(conn, layers[name], z, t.x, t.y)
                features = mapbox_vector_tile.decode(data)[name]["features"] if data else []
                merged += sum(1 for f in features if "_merged" in f["properties"])
        assert merged > 0  # the block was reduced, not only kept
