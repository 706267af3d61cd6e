"""Coverage per service category: the share of a scope's homes within the category's distance of a service.

The distance of each category is the office's setting (``public.coverage_rules``: park 300 m, school 500 m …);
a park is a parcel whose land use is ``park``, any other category a service point of that category. Homes are the
scope's residential parcels; services count wherever they are, also just across the boundary.

Distance is measured **along the street network** when there is one (pgRouting installed, streets near the
scope), as a straight line on the ellipsoid otherwise; each category's result says which (``method``):

1. the streets within the scope's box expanded by the largest distance are noded at every crossing
   (``ST_UnaryUnion``: streets drawn across each other without a shared vertex still meet), in metres in the UTM
   zone of the scope's centre (as homes and services);
2. every home and service is snapped to the nearest point of the nearest street; the snap (the walk from the
   door to the street) is part of the distance; the street is split where a service meets it;
3. one ``pgr_drivingDistance`` call, from a virtual source per category joined to each of its services by an
   edge as long as that service's snap, limited to the largest distance, gives every reachable vertex its
   distance from the nearest service of each category;
4. a home is only ever reached, never passed through, so it need not be a vertex: its distance is the shorter
   way from the two vertices around it on its street (what it would be as a vertex), and it is covered when that
   plus its own snap is within the category's distance. (Making every home a vertex made the network of a
   roll-up of 50,000 homes five times as large, and the routing and bookkeeping with it.)

pgRouting reads its edges from SQL text, which cannot see the statement's CTEs (the layers "as of" a date):
the inputs are copied into temporary tables of this session first (dropped at the end, in one transaction),
read as the request's user, so row-level security applies as to every other indicator. Should GEOS fail to node
the streets, the distances are straight lines (and say so).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

NETWORK, STRAIGHT_LINE = "network", "straight_line"
SNAP_GRID = 0.001  # metres: street ends closer than this are one vertex
# Services near the scope are found against its boundary simplified by NEAR_TOLERANCE_DEG (at most ~11 m from the
# true one anywhere on Earth), with NEAR_SLACK_M added to the distance: the services found are a superset of those
# within the distance of the true boundary (a service farther away serves no home inside), at the cost of the
# simplified boundary's few vertices instead of every vertex of a surveyed one.
NEAR_TOLERANCE_DEG = 1e-4
NEAR_SLACK_M = 15.0
TEMP = {  # temporary tables of the session, dropped at the end of each computation
    "places": "mahalle_cov_places",
    "lines": "mahalle_cov_lines",
    "edges": "mahalle_cov_edges",
    "stops": "mahalle_cov_stops",
    "net": "mahalle_cov_net",
    "snaps": "mahalle_cov_snaps",
}


def _t(name: str) -> sql.Identifier:
    return sql.Identifier("pg_temp", TEMP[name])


def rules(conn: psycopg.Connection) -> list[tuple[str, float]]:
    """(category, distance in metres) of every coverage rule, in the order of the categories."""
    return conn.execute(
        "SELECT category, distance_m FROM public.coverage_rules "
        "ORDER BY array_position(mahalle.coverage_categories(), category), category"
    ).fetchall()


def pgrouting_schema(conn: psycopg.Connection) -> str | None:
    """The schema pgRouting is installed in, or None when it is not installed."""
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pgrouting'"
    ).fetchone()
    return row[0] if row else None


def measure(
    conn: psycopg.Connection, sources: sql.Composable, inside: sql.Composable, params: dict[str, Any]
) -> dict[str, Any]:
    """Coverage of the homes selected by ``inside`` (a condition on parcel ``f``) for every rule.

    ``sources`` is the indicators' ``WITH`` list (``s_parcels``, ``s_streets``, ``s_service_points`` and
    ``area``), ``params`` its parameters: the layers are read live or as of a date, as the other indicators."""
    found = rules(conn)
    by_category: list[dict[str, Any]] = []
    homes = 0
    with conn.transaction():  # the temporary tables live in it (a failure rolls them back with it)
        _create(conn)
        homes, lines = _fill(conn, sources, inside, params, found, _utm_zone(conn, sources, params))
        schema = pgrouting_schema(conn)
        method = NETWORK if found and homes and lines and schema else STRAIGHT_LINE
        if method == NETWORK:
            try:
                with conn.transaction():
                    covered = _network(conn, schema, found)
            except (psycopg.errors.InternalError_, psycopg.errors.DataException):  # GEOS could not node the streets
                method = STRAIGHT_LINE
        if method == STRAIGHT_LINE:
            covered = _straight_line(conn, found)
        _drop(conn)
    for category, distance in found:
        n = covered.get(category, 0)
        by_category.append(
            {
                "category": category,
                "distance_m": int(distance) if float(distance).is_integer() else distance,
                "method": method,
                "homes": homes,
                "covered": n,
                "pct": round(100.0 * n / homes, 1) if homes else None,
            }
        )
    return {"homes": homes, "by_category": by_category, "pct": {c["category"]: c["pct"] for c in by_category}}


# Steps ---------------------------------------------------------------------------------------------


def _create(conn: psycopg.Connection) -> None:
    _drop(conn)
    statements = (
        "CREATE TEMP TABLE {places} (pid bigserial PRIMARY KEY, home boolean NOT NULL, category text, "
        "geom geometry NOT NULL, g geometry NOT NULL)",
        # where each place meets the network: its street piece, the fraction along it (rounded, so that places at
        # the same point share it), its snap; a service's vertex (a narrow table of its own: filled in one INSERT,
        # not by rewriting every row of the places with their geometries)
        "CREATE TEMP TABLE {snaps} (pid bigint NOT NULL, home boolean NOT NULL, category text, edge bigint NOT NULL, "
        "f numeric NOT NULL, snap_m double precision NOT NULL, vid bigint)",
        "CREATE TEMP TABLE {lines} (geom geometry NOT NULL)",
        "CREATE TEMP TABLE {edges} (id bigserial PRIMARY KEY, geom geometry NOT NULL, source bigint, target bigint)",
        "CREATE TEMP TABLE {stops} (edge bigint, f numeric, vid bigint NOT NULL, PRIMARY KEY (edge, f))",
        # indexes made on the empty tables: one made after an update could not be used in this transaction
        "CREATE INDEX ON {edges} USING gist (geom)",
        "CREATE TEMP TABLE {net} (id bigserial PRIMARY KEY, source bigint NOT NULL, target bigint NOT NULL, "
        "cost double precision NOT NULL, reverse_cost double precision NOT NULL)",
    )
    names = {k: _t(k) for k in TEMP}
    for statement in statements:
        conn.execute(sql.SQL(statement).format(**names))


def _drop(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.SQL(", ").join(_t(k) for k in TEMP)))


def _utm_zone(conn: psycopg.Connection, sources: sql.Composable, params: dict[str, Any]) -> int:
    """The EPSG code of the UTM zone of the scope's centre (its box's: the same zone, without reading every vertex
    of a surveyed boundary): the network is measured there, in metres."""
    query = sources + sql.SQL(
        " SELECT CASE WHEN ST_Y(c) >= 0 THEN 32600 ELSE 32700 END + least(floor((ST_X(c) + 180) / 6)::int + 1, 60) "
        "FROM (SELECT ST_Centroid(ST_Envelope(a)) AS c FROM area) s"
    )
    return conn.execute(query, params).fetchone()[0]


def _rules_values(found: list[tuple[str, float]]) -> sql.Composable:
    if not found:
        return sql.SQL("SELECT NULL::text AS category, NULL::float8 AS distance_m WHERE false")
    rows = [sql.SQL("({}::text, {}::float8)").format(sql.Literal(c), sql.Literal(d)) for c, d in found]
    return sql.SQL("SELECT * FROM (VALUES {}) v(category, distance_m)").format(sql.SQL(", ").join(rows))


def _fill(
    conn: psycopg.Connection,
    sources: sql.Composable,
    inside: sql.Composable,
    params: dict[str, Any],
    found: list[tuple[str, float]],
    utm: int,
) -> tuple[int, int]:
    """Homes, the services near the scope and the streets near it into the temporary tables (one statement, so
    the layers as of a date are rebuilt once). Returns the number of homes and of streets."""
    longest = max((d for _, d in found), default=0.0)
    query = sql.SQL(
        """{sources},
        cov_rules AS ({rules}),
        cov_box AS (
          SELECT ST_Expand(e,
                   {longest} / (111320 * greatest(cos(radians(greatest(abs(ST_YMin(e)), abs(ST_YMax(e))))), 0.01)),
                   {longest} / 110574) AS b
            FROM (SELECT ST_Envelope(a) AS e FROM area) x),  -- the boundary read once (a surveyed one is megabytes)
        cov_near AS (  -- the area simplified by ~11 m, to find services near it: a 400,000-vertex boundary would
                       -- be measured against every candidate; the extra NEAR_SLACK_M keeps this a superset
          SELECT ST_MakeValid(ST_Simplify(a, {tolerance}, true))::geography AS g FROM area),
        cov_homes AS (
          INSERT INTO {places} (home, geom, g)
          SELECT true, f.geom, ST_Transform(f.geom, {utm}) FROM s_parcels f
           WHERE {inside} AND f.land_use = 'residential' RETURNING 1),
        cov_services AS (
          INSERT INTO {places} (home, category, geom, g)
          SELECT false, r.category, s.geom, ST_Transform(s.geom, {utm})
            FROM cov_rules r
            -- the box in each branch, for each layer's index: the parks were otherwise read from every parcel
            JOIN (SELECT 'park' AS category, p.geom FROM s_parcels p, cov_box
                   WHERE p.land_use = 'park' AND p.geom && cov_box.b
                  UNION ALL SELECT sp.category, sp.geom FROM s_service_points sp, cov_box
                   WHERE sp.geom && cov_box.b) s ON s.category = r.category
           WHERE ST_DWithin(s.geom::geography, (SELECT g FROM cov_near), r.distance_m + {slack})
          RETURNING 1),
        cov_streets AS (
          INSERT INTO {lines} (geom)
          SELECT ST_Transform(ST_Force2D(st.geom), {utm}) FROM s_streets st, cov_box
           WHERE st.geom && cov_box.b RETURNING 1)
        SELECT (SELECT count(*) FROM cov_homes), (SELECT count(*) FROM cov_services), (SELECT count(*) FROM cov_streets)
        """
    ).format(
        sources=sources,
        rules=_rules_values(found),
        longest=sql.Literal(float(longest)),
        tolerance=sql.Literal(NEAR_TOLERANCE_DEG),
        slack=sql.Literal(NEAR_SLACK_M),
        utm=sql.Literal(utm),
        inside=inside,
        places=_t("places"),
        lines=_t("lines"),
    )
    homes, _, lines = conn.execute(query, params).fetchone()
    # no statistics of the geometries: no plan of the places uses them, and they cost most of the ANALYZE
    conn.execute(sql.SQL("ANALYZE {} (pid, home, category)").format(_t("places")))
    return homes, lines


def _straight_line(conn: psycopg.Connection, found: list[tuple[str, float]]) -> dict[str, int]:
    query = sql.SQL(
        "WITH cov_rules AS ({rules}) "
        "SELECT r.category, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM {places} s WHERE NOT s.home "
        "  AND s.category = r.category AND ST_DWithin(s.geom::geography, h.geom::geography, r.distance_m))) "
        "FROM cov_rules r CROSS JOIN {places} h WHERE h.home GROUP BY r.category"
    ).format(rules=_rules_values(found), places=_t("places"))
    return dict(conn.execute(query).fetchall())


def _network(conn: psycopg.Connection, schema: str | None, found: list[tuple[str, float]]) -> dict[str, int]:
    t = {k: _t(k) for k in TEMP}
    # 1. the streets noded at every crossing, each piece between two vertices
    conn.execute(
        sql.SQL(
            "INSERT INTO {edges} (geom) SELECT d.geom "
            "FROM (SELECT ST_UnaryUnion(ST_Collect(geom)) AS g FROM {lines}) u, ST_Dump(ST_LineMerge(u.g)) d "
            " WHERE ST_GeometryType(d.geom) = 'ST_LineString' AND NOT ST_IsEmpty(d.geom)"
        ).format(**t)
    )
    conn.execute(
        sql.SQL(
            "WITH ends AS (SELECT id, ST_AsBinary(ST_SnapToGrid(ST_StartPoint(geom), {grid})) AS s, "
            "                     ST_AsBinary(ST_SnapToGrid(ST_EndPoint(geom), {grid})) AS e FROM {edges}), "
            "ids AS (SELECT k, row_number() OVER (ORDER BY k) AS vid "
            "        FROM (SELECT s AS k FROM ends UNION SELECT e FROM ends) p) "
            "UPDATE {edges} x SET source = a.vid, target = b.vid FROM ends, ids a, ids b "
            "WHERE ends.id = x.id AND a.k = ends.s AND b.k = ends.e"
        ).format(grid=sql.Literal(SNAP_GRID), **t)
    )
    conn.execute(sql.SQL("ANALYZE {edges}").format(**t))
    # 2. every home and service snapped to the nearest point of the nearest street
    conn.execute(
        sql.SQL(
            "INSERT INTO {snaps} (pid, home, category, edge, f, snap_m) "
            "SELECT q.pid, q.home, q.category, e.id, "
            "       round(ST_LineLocatePoint(e.geom, ST_ClosestPoint(e.geom, q.g))::numeric, 9), "
            "       ST_Distance(e.geom, q.g) "
            "FROM {places} q CROSS JOIN LATERAL (SELECT id, geom FROM {edges} ORDER BY geom <-> q.g LIMIT 1) e"
        ).format(**t)
    )
    conn.execute(sql.SQL("ANALYZE {snaps}").format(**t))
    # the streets split where services meet them, each such point a vertex of its own; with the streets' ends,
    # every vertex along each street, in order. Homes are only ever reached, never passed through: they are
    # measured from the two vertices around them (``_pieces``), which keeps the network small.
    conn.execute(
        sql.SQL(
            "INSERT INTO {stops} (edge, f, vid) "
            "SELECT edge, f, (SELECT max(greatest(source, target)) FROM {edges}) "
            "       + row_number() OVER (ORDER BY edge, f) "
            "FROM (SELECT DISTINCT edge, f FROM {snaps} WHERE NOT home) s "
            "WHERE f > 0 AND f < 1"
        ).format(**t)
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {stops} (edge, f, vid) SELECT id, 0, source FROM {edges} "
            "UNION ALL SELECT id, 1, target FROM {edges}"
        ).format(**t)
    )
    conn.execute(
        sql.SQL(
            "UPDATE {snaps} p SET vid = s.vid FROM {stops} s WHERE NOT p.home AND s.edge = p.edge AND s.f = p.f"
        ).format(**t)
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {net} (source, target, cost, reverse_cost) "
            "WITH seq AS (SELECT edge, f, vid, lead(f) OVER w AS f2, lead(vid) OVER w AS vid2 "
            "               FROM {stops} WINDOW w AS (PARTITION BY edge ORDER BY f)) "
            "SELECT s.vid, s.vid2, l.m, l.m FROM seq s JOIN {edges} e ON e.id = s.edge, "
            "LATERAL (SELECT ST_Length(ST_LineSubstring(e.geom, s.f::float8, s.f2::float8)) AS m) l "
            "WHERE s.f2 IS NOT NULL"
        ).format(**t)
    )
    # 3. a virtual source per category, joined to each of its services by its snap (one way)
    top = conn.execute(sql.SQL("SELECT coalesce(max(greatest(source, target)), 0) FROM {net}").format(**t)).fetchone()[
        0
    ]
    served = {c for (c,) in conn.execute(sql.SQL("SELECT DISTINCT category FROM {places} WHERE NOT home").format(**t))}
    origin = {category: top + 1 + i for i, (category, _) in enumerate(found) if category in served}
    if not origin:
        return {}
    for category, vid in origin.items():
        conn.execute(
            sql.SQL(
                "INSERT INTO {net} (source, target, cost, reverse_cost) "
                "SELECT {vid}, vid, snap_m, -1 FROM {snaps} "
                "WHERE NOT home AND category = {category} AND vid IS NOT NULL"
            ).format(vid=sql.Literal(vid), category=sql.Literal(category), **t)
        )
    edges_sql = sql.SQL("SELECT id, source, target, cost, reverse_cost FROM {net}").format(**t).as_string(conn)
    limits = sql.SQL(", ").join(
        sql.SQL("({}::text, {}::bigint, {}::float8)").format(sql.Literal(c), sql.Literal(origin[c]), sql.Literal(d))
        for c, d in found
        if c in origin
    )
    query = sql.SQL(
        "WITH lim(category, origin, distance_m) AS (VALUES {limits}), "
        "dd AS MATERIALIZED (SELECT from_v, node, agg_cost "
        "                      FROM {dd}({edges_sql}, {origins}::bigint[], {longest}::float8, true)), "
        "pieces AS MATERIALIZED {pieces} "  # each home's lengths once, not once per category
        "SELECT l.category, count(*) FROM pieces h CROSS JOIN lim l "
        "LEFT JOIN dd a ON a.from_v = l.origin AND a.node = h.va "
        "LEFT JOIN dd b ON b.from_v = l.origin AND b.node = h.vb "
        "WHERE least(a.agg_cost + h.la, b.agg_cost + h.lb) + h.snap_m <= l.distance_m "  # least() skips a NULL
        "GROUP BY l.category"
    ).format(
        limits=limits,
        dd=sql.Identifier(schema or "public", "pgr_drivingdistance"),
        edges_sql=sql.Literal(edges_sql),
        origins=sql.Literal(list(origin.values())),
        longest=sql.Literal(float(max(d for c, d in found if c in origin))),
        pieces=_pieces(),
    )
    return dict(conn.execute(query).fetchall())


def _pieces() -> sql.Composable:
    """Each home on its street: the vertices just before (``va``) and after it (``vb``), and the length along the
    street to each (``la``, ``lb``); a home on a vertex has it on both sides, at 0 m. Its distance from a service
    is the shorter way through either, plus its snap: what it would be were the home a vertex of the network."""
    return sql.SQL(
        "(WITH marks AS (SELECT edge, f, NULL::bigint AS pid, NULL::float8 AS snap_m FROM {stops} "
        "                UNION ALL SELECT edge, f, pid, snap_m FROM {snaps} WHERE home), "
        "around AS (SELECT pid, edge, f, snap_m, "
        "  max(f) FILTER (WHERE pid IS NULL) OVER (PARTITION BY edge ORDER BY f, pid NULLS FIRST "
        "                                          ROWS UNBOUNDED PRECEDING) AS fa, "
        "  min(f) FILTER (WHERE pid IS NULL) OVER (PARTITION BY edge ORDER BY f DESC, pid NULLS FIRST "
        "                                          ROWS UNBOUNDED PRECEDING) AS fb FROM marks) "
        "SELECT r.pid, r.snap_m, sa.vid AS va, sb.vid AS vb, "
        "       ST_Length(ST_LineSubstring(e.geom, r.fa::float8, r.f::float8)) AS la, "
        "       ST_Length(ST_LineSubstring(e.geom, r.f::float8, r.fb::float8)) AS lb "
        "  FROM around r JOIN {edges} e ON e.id = r.edge "
        "  JOIN {stops} sa ON sa.edge = r.edge AND sa.f = r.fa JOIN {stops} sb ON sb.edge = r.edge AND sb.f = r.fb "
        " WHERE r.pid IS NOT NULL)"
    ).format(**{k: _t(k) for k in TEMP})
