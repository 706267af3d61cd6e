"""A synthetic city generated in PostGIS, reproducible from a seed.

Everything is set-based SQL over ``generate_series`` in the staging schema ``bench_src``:

- **blocks** of 2 × 8 parcel cells (15 m × 20 m ≈ 300 m²) with 10 m streets between them, laid out in
  square shells from one corner, so the first n parcels of a big city *are* the city of n parcels (the cost
  growth curve reads the same requests on every size);
- **parcels**: the corners every block shares between its parcels are jittered once (``bench_src.vertex``),
  so neighbouring parcels stay edge to edge; the street side of each parcel gets a bump: irregular, valid
  polygons (four to five corners);
- **streets**: the block edges, split at mid-block (3.2 segments per block: 200,000 for a million parcels);
- **service points**: one per 20 parcels, inside a random parcel; **neighbourhoods**: rectangles of 8 × 20
  blocks bounded by street centre lines, covering the whole city.

Randomness is PostgreSQL's ``random()`` after ``setseed()``, drawn only in single ``generate_series`` scans
(serial plans), so the draws follow the row order and the same seed gives the same city. Attribute values
come from the catalogue's value lists (``layers/*.py``); only how often each occurs is said here.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from core.db import attributed
from layers.neighbourhoods import LAYER as NEIGHBOURHOODS
from layers.parcels import BUILDING_STATUS, LAND_USE, PERMIT, TENURE
from layers.parcels import LAYER as PARCELS
from layers.service_points import CATEGORY
from layers.service_points import LAYER as SERVICE_POINTS
from layers.spec import Choice, Layer
from layers.streets import LAYER as STREETS
from layers.streets import LIGHTING, SIDEWALK, STREET_CLASS, SURFACE

SCHEMA = "bench_src"
LAYERS: tuple[Layer, ...] = (NEIGHBOURHOODS, PARCELS, STREETS, SERVICE_POINTS)
UTM = 32639  # the city sits in UTM zone 39N (around 51.4° E, 35.6° N); metres are laid out there
ORIGIN = (500_000.0, 3_940_000.0)
CELL_W, CELL_H, COLS, ROWS = 15.0, 20.0, 8, 2  # a parcel cell and the cells of a block
STREET_W = 10.0
PITCH_X, PITCH_Y = COLS * CELL_W + STREET_W, ROWS * CELL_H + STREET_W
PER_BLOCK = COLS * ROWS
CORNERS = (COLS + 1) * (ROWS + 1)  # shared parcel corners of one block
JITTER, BUMP = 2.5, 2.0  # metres a corner moves, and how far the street side bulges
NB_BLOCKS = (8, 20)  # a neighbourhood is 8 × 20 blocks (1.04 km × 1 km)
PARCELS_PER_STREET, PARCELS_PER_SERVICE = 5, 20

# How often each catalogue value occurs; values not named here keep weight 1.
LAND_USE_WEIGHTS = {
    "residential": 55,
    "mixed": 10,
    "commercial": 8,
    "vacant": 8,
    "unknown": 8,
    "industrial": 3,
    "public": 3,
    "park": 2,
}
TENURE_WEIGHTS = {"informal": 35, "customary_deed": 30, "registered_deed": 20, "public": 5, "unknown": 10}
STATUS_WEIGHTS = {"none": 0, "good": 15, "fair": 35, "poor": 30, "ruined": 5, "under_construction": 5, "unknown": 10}
SURFACE_WEIGHTS = {
    "asphalt": 35,
    "concrete": 10,
    "paving_stones": 5,
    "paved": 5,
    "gravel": 15,
    "earth": 20,
    "unknown": 10,
}
LIGHTING_WEIGHTS = {"lit": 30, "partial": 25, "unlit": 35, "unknown": 10}
SIDEWALK_WEIGHTS = {"both": 20, "one_side": 20, "none": 50, "unknown": 10}
CATEGORY_WEIGHTS = {
    "bus_stop": 25,
    "market": 25,
    "school": 8,
    "mosque": 6,
    "pharmacy": 6,
    "kindergarten": 5,
    "clinic": 4,
    "bank": 3,
    "ngo": 3,
    "charity": 3,
    "sports": 3,
    "other": 3,
    "government": 2,
    "community_centre": 2,
}
# Chance of a building permit by tenure (the rest unpermitted; 10 % of parcels are 'unknown').
PERMIT_CHANCE = {"registered_deed": 0.7, "customary_deed": 0.3, "public": 0.5, "informal": 0.05, "unknown": 0.2}
NOTES = ("cracks in the walls", "roof leaks in winter", "shared courtyard", "owner abroad", "flood-prone corner")


@dataclass(frozen=True)
class City:
    """The sizes of a city of ``parcels`` parcels."""

    parcels: int

    @property
    def blocks(self) -> int:
        return math.ceil(self.parcels / PER_BLOCK)

    @property
    def streets(self) -> int:
        return 3 * self.blocks + math.ceil(self.blocks / 5)

    @property
    def service_points(self) -> int:
        return max(1, self.parcels // PARCELS_PER_SERVICE)

    @property
    def side(self) -> int:
        """Blocks along each side of the square of shells holding every block."""
        return math.isqrt(self.blocks - 1) + 1

    @property
    def grid(self) -> tuple[int, int]:
        """Neighbourhood columns and rows."""
        return math.ceil(self.side / NB_BLOCKS[0]), math.ceil(self.side / NB_BLOCKS[1])

    @property
    def neighbourhoods(self) -> int:
        return self.grid[0] * self.grid[1]

    def extent_m(self) -> tuple[float, float, float, float]:
        """The parcels' extent in the local metric frame (before the move to UTM)."""
        return (0.0, 0.0, self.side * PITCH_X - STREET_W, self.side * PITCH_Y - STREET_W)


def block_xy(b: int) -> tuple[int, int]:
    """Block number → (column, row) in square shells: shell k holds (k, 0…k) then (0…k-1, k)."""
    k = math.isqrt(b)
    r = b - k * k
    return (k, r) if r <= k else (r - k - 1, k)


def weights(options: tuple[Choice, ...], tilt: Mapping[str, float]) -> dict[str, float]:
    """Every catalogue value with its weight; naming a value the catalogue lacks is an error."""
    values = [c.value for c in options]
    unknown = set(tilt) - set(values)
    if unknown:
        raise ValueError(f"not in the catalogue: {sorted(unknown)}")
    return {v: float(tilt.get(v, 1.0)) for v in values}


def value(options: tuple[Choice, ...], name: str) -> sql.Literal:
    """A catalogue value used in a rule below, checked to exist."""
    if name not in {c.value for c in options}:
        raise ValueError(f"{name!r} is not a catalogue value")
    return sql.Literal(name)


def pick(u: str, dist: Mapping[str, float]) -> sql.Composable:
    """SQL choosing a value of ``dist`` from the uniform draw in column ``u`` (inverse CDF, one lookup)."""
    total = sum(dist.values())
    breaks, acc = [], 0.0
    for w in list(dist.values())[:-1]:
        acc += w / total
        breaks.append(round(acc, 12))
    return sql.SQL("({}::text[])[width_bucket({}, {}::float8[]) + 1]").format(
        sql.Literal(list(dist)), sql.Identifier(u), sql.Literal(breaks)
    )


def seed_value(seed: int, salt: int) -> float:
    """A setseed() argument in [-1, 1) for one table, so every table draws its own stream."""
    return ((seed * 1_000_003 + salt * 7_919) % 2_000_000) / 1_000_000 - 1


def _draws(
    conn: psycopg.Connection,
    table: str,
    seed: int,
    salt: int,
    count: int,
    names: list[str],
    where: sql.Composable | None = None,
) -> None:
    """An unlogged table of uniform draws, one row per number of ``generate_series(0, count - 1)``."""
    conn.execute("SELECT setseed(%s)", (seed_value(seed, salt),))
    cols = sql.SQL(", ").join(sql.SQL("random() AS {}").format(sql.Identifier(n)) for n in names)
    conn.execute(
        sql.SQL("CREATE UNLOGGED TABLE {}.{} AS SELECT n, {} FROM generate_series(0, {}) n {}").format(
            sql.Identifier(SCHEMA),
            sql.Identifier(table),
            cols,
            sql.Literal(count - 1),
            sql.SQL("WHERE ") + where if where is not None else sql.SQL(""),
        )
    )


FUNCTIONS = sql.SQL("""
CREATE FUNCTION {s}.block_x(b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN b - k * k <= k THEN k ELSE b - k * k - k - 1 END FROM (SELECT floor(sqrt(b))::bigint AS k) s $$;
CREATE FUNCTION {s}.block_y(b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN b - k * k <= k THEN b - k * k ELSE k END FROM (SELECT floor(sqrt(b))::bigint AS k) s $$;
CREATE FUNCTION {s}.to_wgs84(g geometry) RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ST_Transform(ST_SetSRID(ST_Translate(g, {x}, {y}), {utm}), 4326) $$;
""").format(s=sql.Identifier(SCHEMA), x=sql.Literal(ORIGIN[0]), y=sql.Literal(ORIGIN[1]), utm=sql.Literal(UTM))


def generate(conn: psycopg.Connection, parcels: int, seed: int) -> City:
    """(Re)create ``bench_src`` with a city of ``parcels`` parcels; ``conn`` must be in autocommit."""
    city = City(parcels)
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    # Parallel workers would each draw their own random() stream: keep every plan serial.
    conn.execute("SET max_parallel_workers_per_gather = 0")
    conn.execute(FUNCTIONS)
    _blocks(conn, city, seed)
    _parcels(conn, city, seed)
    _streets(conn, city, seed)
    _service_points(conn, city, seed)
    _neighbourhoods(conn, city, seed)
    for name in ("vertex", "parcel_draw", "street_draw", "service_draw", "neighbourhood_draw"):
        conn.execute(sql.SQL("DROP TABLE {}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(name)))
    for layer in LAYERS:
        conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(layer.name)))
    return city


def _blocks(conn: psycopg.Connection, city: City, seed: int) -> None:
    # One draw per shared corner; a block keeps its corners' offsets in two arrays (index j * 9 + i + 1).
    _draws(conn, "vertex", seed, 1, city.blocks * CORNERS, ["ux", "uy"])
    conn.execute(
        sql.SQL(
            """
            CREATE TABLE {s}.blocks AS
            SELECT n / {corners} AS b, {s}.block_x(n / {corners}) AS bx, {s}.block_y(n / {corners}) AS by,
                   array_agg((ux * 2 - 1) * {j} ORDER BY n) AS dx, array_agg((uy * 2 - 1) * {j} ORDER BY n) AS dy
              FROM {s}.vertex GROUP BY n / {corners}
            """
        ).format(s=sql.Identifier(SCHEMA), corners=sql.Literal(CORNERS), j=sql.Literal(JITTER))
    )
    conn.execute(sql.SQL("ALTER TABLE {}.blocks ADD PRIMARY KEY (b)").format(sql.Identifier(SCHEMA)))


def _corner(i: str, j: str, axis: str) -> sql.Composable:
    """Local x or y of corner (i, j) of the row's block (columns k.bx/k.by, arrays k.dx/k.dy); cx, cy name the cell."""
    if axis == "x":
        return sql.SQL("(k.bx * {p} + ({i}) * {w} + k.dx[({j}) * {n} + ({i}) + 1])").format(
            p=sql.Literal(PITCH_X), w=sql.Literal(CELL_W), n=sql.Literal(COLS + 1), i=sql.SQL(i), j=sql.SQL(j)
        )
    return sql.SQL("(k.by * {p} + ({j}) * {h} + k.dy[({j}) * {n} + ({i}) + 1])").format(
        p=sql.Literal(PITCH_Y), h=sql.Literal(CELL_H), n=sql.Literal(COLS + 1), i=sql.SQL(i), j=sql.SQL(j)
    )


def _point(i: str, j: str) -> sql.Composable:
    return sql.SQL("ST_MakePoint({}, {})").format(_corner(i, j, "x"), _corner(i, j, "y"))


def _parcel_ring() -> sql.Composable:
    """The parcel's ring, counter-clockwise, with the bump on the side that faces the street."""
    a, b, c, d = _point("cx", "cy"), _point("cx + 1", "cy"), _point("cx + 1", "cy + 1"), _point("cx", "cy + 1")
    bottom_mid = sql.SQL("ST_MakePoint(({} + {}) / 2, ({} + {}) / 2 - bump)").format(
        _corner("cx", "cy", "x"),
        _corner("cx + 1", "cy", "x"),
        _corner("cx", "cy", "y"),
        _corner("cx + 1", "cy", "y"),
    )
    top_mid = sql.SQL("ST_MakePoint(({} + {}) / 2, ({} + {}) / 2 + bump)").format(
        _corner("cx + 1", "cy + 1", "x"),
        _corner("cx", "cy + 1", "x"),
        _corner("cx + 1", "cy + 1", "y"),
        _corner("cx", "cy + 1", "y"),
    )
    return sql.SQL(
        "CASE WHEN cy = 0 THEN ARRAY[{a}, {bm}, {b}, {c}, {d}, {a}] ELSE ARRAY[{a}, {b}, {c}, {tm}, {d}, {a}] END"
    ).format(a=a, b=b, c=c, d=d, bm=bottom_mid, tm=top_mid)


def _parcels(conn: psycopg.Connection, city: City, seed: int) -> None:
    names = ["u_use", "u_tenure", "u_status", "u_permit", "u_permit2", "u_floors", "u_note", "u_bump"]
    _draws(conn, "parcel_draw", seed, 2, city.parcels, names)
    permit_chance = sql.SQL("CASE tenure {} ELSE 0.2 END").format(
        sql.SQL(" ").join(
            sql.SQL("WHEN {} THEN {}").format(value(TENURE, t), sql.Literal(p)) for t, p in PERMIT_CHANCE.items()
        )
    )
    no_building = sql.SQL("land_use IN ({}, {})").format(value(LAND_USE, "vacant"), value(LAND_USE, "park"))
    conn.execute(
        sql.SQL(
            """
            CREATE TABLE {s}.parcels AS
            SELECT n + 1 AS fid,
                   format('%s-%s-%s', nb, lpad(d.b::text, 6, '0'), lpad((c + 1)::text, 2, '0')) AS parcel_code,
                   land_use, tenure,
                   CASE WHEN {no_building} THEN {none} ELSE {status} END AS building_status,
                   CASE WHEN u_permit < 0.1 THEN {unknown} WHEN u_permit2 < {permit_chance} THEN {permitted}
                        ELSE {unpermitted} END AS permit,
                   CASE WHEN {no_building} THEN NULL ELSE least(8, 1 + floor(-ln(1 - u_floors) * 1.2))::int END
                     AS floors,
                   format('Kucheh %s, No. %s', d.b, c + 1) AS address,
                   CASE WHEN u_note < 0.05 THEN ({notes}::text[])[1 + floor(u_note * 100)::int] END AS note,
                   ST_Multi({s}.to_wgs84(ST_MakePolygon(ST_MakeLine({ring}))))::geometry(MultiPolygon, 4326) AS geom
              FROM (
                SELECT d.*, n / {per} AS b, n % {per} AS c, (n % {per}) % {cols} AS cx, (n % {per}) / {cols} AS cy,
                       (u_bump * 2 - 1) * {bump} AS bump, {land_use} AS land_use, {tenure} AS tenure,
                       format('NB%s-%s', lpad(({s}.block_x(n / {per}) / {nbx})::text, 3, '0'),
                              lpad(({s}.block_y(n / {per}) / {nby})::text, 3, '0')) AS nb
                  FROM {s}.parcel_draw d
              ) d JOIN {s}.blocks k ON k.b = d.b
            """
        ).format(
            s=sql.Identifier(SCHEMA),
            per=sql.Literal(PER_BLOCK),
            cols=sql.Literal(COLS),
            bump=sql.Literal(BUMP),
            nbx=sql.Literal(NB_BLOCKS[0]),
            nby=sql.Literal(NB_BLOCKS[1]),
            land_use=pick("u_use", weights(LAND_USE, LAND_USE_WEIGHTS)),
            tenure=pick("u_tenure", weights(TENURE, TENURE_WEIGHTS)),
            status=pick("u_status", weights(BUILDING_STATUS, STATUS_WEIGHTS)),
            no_building=no_building,
            none=value(BUILDING_STATUS, "none"),
            unknown=value(PERMIT, "unknown"),
            permitted=value(PERMIT, "permitted"),
            unpermitted=value(PERMIT, "unpermitted"),
            permit_chance=permit_chance,
            notes=sql.Literal(list(NOTES)),
            ring=_parcel_ring(),
        )
    )
    conn.execute(sql.SQL("ALTER TABLE {}.parcels ADD PRIMARY KEY (fid)").format(sql.Identifier(SCHEMA)))


def _street_line() -> sql.Composable:
    """Block edges in the local frame: top edge halves (k 0, 1), the left edge whole or halved (k 2, 3)."""
    x0, y0 = sql.SQL("bx * {}").format(sql.Literal(PITCH_X)), sql.SQL("by * {}").format(sql.Literal(PITCH_Y))
    half = STREET_W / 2
    top, mid_x, right = PITCH_Y - half, (PITCH_X - STREET_W) / 2, PITCH_X - half
    split = (PITCH_Y - STREET_W) / 2
    return sql.SQL(
        """CASE k
             WHEN 0 THEN ST_MakeLine(ST_MakePoint({x0} - {h}, {y0} + {top}),
                                     ST_MakePoint({x0} + {mid}, {y0} + {top}))
             WHEN 1 THEN ST_MakeLine(ST_MakePoint({x0} + {mid}, {y0} + {top}),
                                     ST_MakePoint({x0} + {right}, {y0} + {top}))
             WHEN 2 THEN ST_MakeLine(ST_MakePoint({x0} - {h}, {y0} - {h}),
                                     ST_MakePoint({x0} - {h}, {y0} + CASE WHEN b % 5 = 0 THEN {split} ELSE {top} END))
             ELSE ST_MakeLine(ST_MakePoint({x0} - {h}, {y0} + {split}), ST_MakePoint({x0} - {h}, {y0} + {top}))
           END"""
    ).format(
        x0=x0,
        y0=y0,
        h=sql.Literal(half),
        top=sql.Literal(top),
        mid=sql.Literal(mid_x),
        right=sql.Literal(right),
        split=sql.Literal(split),
    )


def _streets(conn: psycopg.Connection, city: City, seed: int) -> None:
    names = ["u_class", "u_surface", "u_light", "u_side", "u_width"]
    _draws(conn, "street_draw", seed, 3, city.blocks * 4, names, sql.SQL("n % 4 < 3 OR (n / 4) % 5 = 0"))
    primary, secondary = value(STREET_CLASS, "primary"), value(STREET_CLASS, "secondary")
    asphalt, lit = value(SURFACE, "asphalt"), value(LIGHTING, "lit")
    conn.execute(
        sql.SQL(
            """
            CREATE TABLE {s}.streets AS
            SELECT row_number() OVER (ORDER BY n) AS fid,
                   format('کوچه %s', n) AS name, format('Kucheh %s', n) AS name_latin, street_class,
                   round((CASE street_class WHEN {primary} THEN 24 WHEN {secondary} THEN 16
                          WHEN {alley} THEN 3 + u_width * 3 ELSE 7 + u_width * 4 END)::numeric, 1)::float8 AS width_m,
                   CASE WHEN street_class IN ({primary}, {secondary}) THEN {asphalt} ELSE {surface} END AS surface,
                   CASE WHEN street_class = {primary} THEN {lit} ELSE {lighting} END AS lighting,
                   {sidewalk} AS sidewalk, NULL::text AS note,
                   ST_Multi({s}.to_wgs84({line}))::geometry(MultiLineString, 4326) AS geom
              FROM (
                SELECT d.*, n / 4 AS b, n % 4 AS k, {s}.block_x(n / 4) AS bx, {s}.block_y(n / 4) AS by,
                       CASE WHEN n % 4 < 2 THEN CASE WHEN ({s}.block_y(n / 4) + 1) % {nby} = 0 THEN {primary}
                                                      WHEN ({s}.block_y(n / 4) + 1) % 5 = 0 THEN {secondary} END
                            ELSE CASE WHEN {s}.block_x(n / 4) % {nbx} = 0 THEN {primary}
                                      WHEN {s}.block_x(n / 4) % 4 = 0 THEN {secondary} END
                       END AS major
                  FROM {s}.street_draw d
              ) d, LATERAL (SELECT coalesce(major, CASE WHEN u_class < 0.25 THEN {alley} ELSE {local} END)
                              AS street_class) c
            """
        ).format(
            s=sql.Identifier(SCHEMA),
            primary=primary,
            secondary=secondary,
            alley=value(STREET_CLASS, "alley"),
            local=value(STREET_CLASS, "local"),
            asphalt=asphalt,
            lit=lit,
            nbx=sql.Literal(NB_BLOCKS[0]),
            nby=sql.Literal(NB_BLOCKS[1]),
            surface=pick("u_surface", weights(SURFACE, SURFACE_WEIGHTS)),
            lighting=pick("u_light", weights(LIGHTING, LIGHTING_WEIGHTS)),
            sidewalk=pick("u_side", weights(SIDEWALK, SIDEWALK_WEIGHTS)),
            line=_street_line(),
        )
    )
    conn.execute(sql.SQL("ALTER TABLE {}.streets ADD PRIMARY KEY (fid)").format(sql.Identifier(SCHEMA)))


def _service_points(conn: psycopg.Connection, city: City, seed: int) -> None:
    names = ["u_parcel", "u_cat", "u_dx", "u_dy", "u_provider", "u_hours"]
    _draws(conn, "service_draw", seed, 4, city.service_points, names)
    conn.execute(
        sql.SQL(
            """
            CREATE TABLE {s}.service_points AS
            SELECT n + 1 AS fid, format('%s %s', initcap(replace(category, '_', ' ')), n + 1) AS name,
                   format('%s %s', initcap(replace(category, '_', ' ')), n + 1) AS name_latin, category,
                   CASE WHEN u_provider < 0.3 THEN 'Municipality' WHEN u_provider < 0.4 THEN 'Local NGO' END
                     AS provider,
                   NULL::text AS services, NULL::text AS contact,
                   CASE WHEN u_hours < 0.5 THEN 'Mo-Fr 08:00-16:00' WHEN u_hours < 0.6 THEN '24/7' END
                     AS opening_hours,
                   CASE WHEN u_hours < 0.9 THEN 'open' WHEN u_hours < 0.95 THEN 'temporarily_closed' ELSE 'closed'
                   END AS status,
                   {s}.to_wgs84(ST_MakePoint(
                     {s}.block_x(p / {per}) * {px} + (p % {per} % {cols}) * {w} + {w} / 2 + (u_dx * 2 - 1) * 3,
                     {s}.block_y(p / {per}) * {py} + (p % {per} / {cols}) * {h} + {h} / 2 + (u_dy * 2 - 1) * 3))
                     ::geometry(Point, 4326) AS geom
              FROM (SELECT d.*, floor(u_parcel * {parcels})::bigint AS p, {category} AS category
                      FROM {s}.service_draw d) d
            """
        ).format(
            s=sql.Identifier(SCHEMA),
            per=sql.Literal(PER_BLOCK),
            cols=sql.Literal(COLS),
            px=sql.Literal(PITCH_X),
            py=sql.Literal(PITCH_Y),
            w=sql.Literal(CELL_W),
            h=sql.Literal(CELL_H),
            parcels=sql.Literal(city.parcels),
            category=pick("u_cat", weights(CATEGORY, CATEGORY_WEIGHTS)),
        )
    )
    conn.execute(sql.SQL("ALTER TABLE {}.service_points ADD PRIMARY KEY (fid)").format(sql.Identifier(SCHEMA)))


def _neighbourhoods(conn: psycopg.Connection, city: City, seed: int) -> None:
    cols, _rows = city.grid
    _draws(conn, "neighbourhood_draw", seed, 5, city.neighbourhoods, ["u_hh", "u_size"])
    wx, wy = NB_BLOCKS[0] * PITCH_X, NB_BLOCKS[1] * PITCH_Y
    conn.execute(
        sql.SQL(
            """
            CREATE TABLE {s}.neighbourhoods AS
            SELECT n + 1 AS fid, format('NB%s-%s', lpad(nx::text, 3, '0'), lpad(ny::text, 3, '0')) AS code,
                   format('محله %s', n + 1) AS name, format('Mahalleh %s', n + 1) AS name_latin,
                   'Benchabad' AS city, round(hh * (3.8 + u_size))::int AS population, hh AS households,
                   format('Facilitation office %s', nx / 2 + 1) AS office,
                   ST_Multi({s}.to_wgs84(ST_MakeEnvelope(nx * {wx} - {h}, ny * {wy} - {h},
                                                         (nx + 1) * {wx} - {h}, (ny + 1) * {wy} - {h})))
                     ::geometry(MultiPolygon, 4326) AS geom
              FROM (SELECT d.*, n % {cols} AS nx, n / {cols} AS ny, 1500 + floor(u_hh * 1500)::int AS hh
                      FROM {s}.neighbourhood_draw d) d
            """
        ).format(
            s=sql.Identifier(SCHEMA),
            cols=sql.Literal(cols),
            wx=sql.Literal(wx),
            wy=sql.Literal(wy),
            h=sql.Literal(STREET_W / 2),
        )
    )
    conn.execute(sql.SQL("ALTER TABLE {}.neighbourhoods ADD PRIMARY KEY (fid)").format(sql.Identifier(SCHEMA)))


def checksums(conn: psycopg.Connection) -> dict[str, str]:
    """md5 of every staging table's rows in fid order: equal for equal cities."""
    out = {}
    for layer in LAYERS:
        row = conn.execute(
            sql.SQL("SELECT md5(string_agg(md5(t::text), '' ORDER BY t.fid)) FROM {}.{} t").format(
                sql.Identifier(SCHEMA), sql.Identifier(layer.name)
            )
        ).fetchone()
        out[layer.name] = row[0]
    return out


def write_gpkg(ogr_source: str, path: Path) -> None:
    """One GeoPackage with a layer per Mahalle layer, named like it, fids kept (ogr2ogr)."""
    path.unlink(missing_ok=True)
    for i, layer in enumerate(LAYERS):
        args = [
            "ogr2ogr",
            "-f",
            "GPKG",
            str(path),
            ogr_source,
            f"{SCHEMA}.{layer.name}",
            "-nln",
            layer.name,
            "-preserve_fid",
            "-lco",
            "GEOMETRY_NAME=geom",
            "-lco",
            "FID=fid",
            "-gt",
            "100000",
        ]
        if i:
            args.insert(1, "-update")
        subprocess.run(args, check=True, capture_output=True, text=True)


def load_neighbourhoods(conn: psycopg.Connection) -> int:
    """Neighbourhoods into Mahalle's table through its triggers (validation, history)."""
    cols = [sql.Identifier(n) for n in NEIGHBOURHOODS.attribute_names]
    with attributed(conn, "bench", "synthetic city"):
        cur = conn.execute(
            sql.SQL(
                "INSERT INTO public.neighbourhoods ({cols}, geom, source, source_id) "
                "SELECT {cols}, geom, 'bench', fid::text FROM {s}.neighbourhoods ORDER BY fid"
            ).format(cols=sql.SQL(", ").join(cols), s=sql.Identifier(SCHEMA))
        )
        return cur.rowcount


def fast_load(conn: psycopg.Connection, layer: Layer, limit: int | None = None) -> int:
    """Staged rows (the first ``limit``) straight into the layer's table without row triggers: for the cost-growth
    databases and the set-up layers that no scenario measures (their history is not needed, their rows and
    indexes are the same). The neighbourhood comes from one spatial join instead of the per-row trigger.
    Attributes the city does not stage (added to the layer since) are left to their defaults."""
    staged = {
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (SCHEMA, layer.name),
        )
    }
    names = [n for n in layer.attribute_names if n in staged]
    cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    scols = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(n)) for n in names)
    table = sql.Identifier(layer.name)
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        cur = conn.execute(
            sql.SQL(
                """
                INSERT INTO public.{table} (id, neighbourhood_id, {cols}, geom, source, source_id)
                SELECT s.fid, nb.id, {scols}, s.geom, 'bench', s.fid::text
                  FROM {s}.{table} s
                  LEFT JOIN LATERAL (SELECT n.id FROM public.neighbourhoods n
                                      WHERE n.geom && s.geom AND ST_Intersects(n.geom, ST_PointOnSurface(s.geom))
                                      ORDER BY n.id LIMIT 1) nb ON true
                 WHERE s.fid <= %s ORDER BY s.fid
                """
            ).format(table=table, cols=cols, scols=scols, s=sql.Identifier(SCHEMA)),
            (limit or 2**62,),
        )
        conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({name}, 'id'), (SELECT max(id) FROM public.{table}))").format(
                name=sql.Literal(f"public.{layer.name}"), table=table
            )
        )
    return cur.rowcount
