"""Neighbourhood indicators, computed in PostGIS for a neighbourhood or any drawn polygon, now or as of a date.

Every figure reads its layers either live or as they were at a moment (``mahalle.as_of``, rebuilt from
the history), so a before/after comparison is exact. Definitions are in docs/planning.md; in short:

* a neighbourhood holds the features whose ``neighbourhood_id`` is it; a drawn polygon holds the
  features whose point-on-surface lies inside it, and the part of each street inside it;
* services that serve an area (parks, schools, clinics) are counted wherever they are, also just
  across the boundary; distances are straight lines on the ellipsoid (geography), except coverage's: along the
  street network where there is one, each category with its own distance (gis/coverage.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg
import shapely
from psycopg import sql
from psycopg.rows import dict_row

from core import i18n
from core.errors import InvalidInput, NotFound
from gis import coverage
from layers import groups, interventions, parcels, service_points, workshops
from layers.spec import text_in

PAVED = tuple(c.value for c in interventions.PAVING_SURFACE)
FORMAL_TENURE = ("registered_deed", "public")  # a title the state recognises
CLEARED = ("cleared", "repurposed")  # blighted plots no longer blighted
STILL_BLIGHTED = ("identified", "secured")
ACTIVE_WORKSHOP = ("active", "warned")  # still operating
NOT_LIT = ("unlit", "partial")
SCHOOLS = ("school",)
# Coverage distances are the office's settings per service category (public.coverage_rules, gis/coverage.py).
UNLIT_NEAR_SCHOOL_M, BLIGHT_NEAR_SCHOOL_M, WORKSHOP_NEAR_HOMES_M = 200, 100, 50

assert set(FORMAL_TENURE) <= set(parcels.LAYER.attribute("tenure").values)
assert set(ACTIVE_WORKSHOP) | {"sealed"} <= set(workshops.LAYER.attribute("status").values)


@dataclass(frozen=True)
class Scope:
    """Where indicators are computed: one or several neighbourhoods (by id) or a drawn polygon (hex EWKB).

    Several neighbourhoods (a roll-up) count their features once each, their populations summed (unknown if any
    is unknown) and their boundaries' union as the area; ``code`` is then their codes, comma-separated."""

    area: str | None  # hex EWKB, EPSG:4326; None for one neighbourhood (its boundary is read from its row)
    neighbourhood_ids: tuple[int, ...] = ()
    code: str | None = None
    name: str | None = None
    population: int | None = None
    codes: tuple[str, ...] = ()
    group: str | None = None  # the named group the neighbourhoods were chosen by

    @property
    def neighbourhood_id(self) -> int | None:
        """The neighbourhood of a one-neighbourhood scope."""
        return self.neighbourhood_ids[0] if len(self.neighbourhood_ids) == 1 else None

    @property
    def rollup(self) -> bool:
        return len(self.neighbourhood_ids) > 1 or self.group is not None


def end_of_day(day: date) -> datetime:
    """ "As of a date" means with everything recorded on that date (session time zone)."""
    return datetime.combine(day + timedelta(days=1), time.min)


def neighbourhood_scope(conn: psycopg.Connection, code: str) -> Scope:
    return neighbourhoods_scope(conn, [code])


def neighbourhoods_scope(conn: psycopg.Connection, codes: list[str], group: tuple[str, str] | None = None) -> Scope:
    """The neighbourhoods of ``codes`` (in that order, each once), or of ``group`` (code, name) when given.
    Row-level security shows only the neighbourhoods the user may read, so an unreadable code is unknown."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not codes:
        raise InvalidInput("name at least one neighbourhood (its code)", "neighbourhood")
    row = conn.execute(
        "SELECT array_agg(n.id ORDER BY x.o), array_agg(n.code ORDER BY x.o), "
        "string_agg(n.name, ', ' ORDER BY x.o), CASE WHEN bool_and(n.population IS NOT NULL) "
        "THEN sum(n.population) END "
        "FROM unnest(%s::text[]) WITH ORDINALITY x(code, o) JOIN public.neighbourhoods n ON n.code = x.code",
        (codes,),
    ).fetchone()
    ids, found, name, population = row
    missing = [c for c in codes if c not in (found or [])]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise NotFound(f"There is no neighbourhood with code {names}." if len(missing) == 1 else
                       f"There are no neighbourhoods with codes {names}.")  # fmt: skip
    area = None  # one neighbourhood's boundary is read from its row (``_area``): a surveyed one is megabytes
    if len(ids) > 1:
        area = conn.execute("SELECT encode(ST_AsEWKB(ST_Multi(ST_Union(geom))), 'hex') FROM public.neighbourhoods "
                            "WHERE id = ANY(%s)", (ids,)).fetchone()[0]  # fmt: skip
    if group is not None:
        return Scope(area, tuple(ids), group[0], group[1], population, tuple(found), group[0])
    return Scope(area, tuple(ids), ",".join(found), name, population, tuple(found))


MAX_CODES = 500  # neighbourhoods one roll-up may name


def scope_of(conn: psycopg.Connection, neighbourhood: str | None = None, group: str | None = None) -> Scope:
    """The scope a request names: ``neighbourhood`` (a code, or codes separated by commas) or ``group``."""
    if bool(neighbourhood) == bool(group):
        raise InvalidInput("give either neighbourhood (a code, or codes separated by commas) or group", "neighbourhood")
    if group:
        name, _, codes = groups.member_codes(conn, group)
        if not codes:
            raise NotFound(f"The group {group!r} has no neighbourhood you may read.")
        return neighbourhoods_scope(conn, codes, (group, name))
    codes = (neighbourhood or "").split(",")
    if len(codes) > MAX_CODES:
        raise InvalidInput(f"a roll-up may name at most {MAX_CODES} neighbourhoods", "neighbourhood")
    return neighbourhoods_scope(conn, codes)


def parse_polygon(value: Any) -> shapely.Geometry:
    """A drawn area from GeoJSON (geometry or Feature) or WKT; InvalidInput naming ``geometry`` otherwise."""
    try:
        if isinstance(value, str):
            geom = shapely.from_geojson(value) if value.lstrip().startswith("{") else shapely.from_wkt(value)
        elif isinstance(value, dict):
            geom = shapely.from_geojson(
                json.dumps(value.get("geometry", value) if value.get("type") == "Feature" else value)
            )
        else:
            raise InvalidInput("geometry must be a GeoJSON polygon or WKT", "geometry")
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise InvalidInput(f"geometry is not readable: {exc}", "geometry") from None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        kind = "empty" if geom is None or geom.is_empty else geom.geom_type
        raise InvalidInput(f"geometry must be a Polygon or MultiPolygon, not {kind}", "geometry")
    xmin, ymin, xmax, ymax = geom.bounds
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise InvalidInput("geometry: coordinates must be longitude, latitude (EPSG:4326 / CRS84)", "geometry")
    if not geom.is_valid:
        raise InvalidInput(f"geometry is invalid: {shapely.is_valid_reason(geom)}", "geometry")
    return geom


def polygon_scope(conn: psycopg.Connection, value: Any) -> Scope:
    """A drawn polygon; its population is estimated from the neighbourhoods it overlaps (even density)."""
    geom = parse_polygon(value)
    area = shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)
    population = conn.execute(
        "SELECT round(sum(n.population * ST_Area(ST_Intersection(n.geom, a)::geography) / nullif(n.area_m2, 0))) "
        "FROM public.neighbourhoods n, (SELECT %s::geometry AS a) x WHERE ST_Intersects(n.geom, a)",
        (area,),
    ).fetchone()[0]
    return Scope(area, population=int(population) if population is not None else None)


# SQL building --------------------------------------------------------------------------------------

LAYERS = ("streets", "parcels", "blighted_plots", "workshops", "service_points")


def _sources(at: datetime | None, scope: Scope) -> sql.Composable:
    """CTEs ``s_<layer>``: the live tables, or the layers as they were at ``at``; and ``area``, the scope's
    boundary: one neighbourhood's is read from its table (a boundary of 400,000 vertices is megabytes of
    parameter that every statement would otherwise send and parse), a roll-up's union or a drawn polygon is sent."""
    parts = []
    for name in LAYERS:
        if at is None:
            # NOT MATERIALIZED: a live layer named twice in a statement (coverage's parcels) would otherwise be read
            # whole into the statement's memory, every row of the city, instead of through its indexes each time
            body = sql.SQL("SELECT * FROM public.{}").format(sql.Identifier(name))
            parts.append(sql.SQL("{} AS NOT MATERIALIZED ({})").format(sql.Identifier(f"s_{name}"), body))
        else:
            body = sql.SQL("SELECT * FROM mahalle.as_of(NULL::public.{}, %(at)s)").format(sql.Identifier(name))
            parts.append(sql.SQL("{} AS MATERIALIZED ({})").format(sql.Identifier(f"s_{name}"), body))
    return sql.SQL("WITH {}, area AS ({})").format(sql.SQL(", ").join(parts), _area(scope))


def _area(scope: Scope) -> sql.Composable:
    """The scope's boundary as a query of one row, ``a``."""
    if scope.neighbourhood_id is not None:
        return sql.SQL("SELECT n.geom AS a FROM public.neighbourhoods n WHERE n.id = %(nid)s")
    return sql.SQL("SELECT %(area)s::geometry AS a")


def _inside(scope: Scope, lines: bool = False) -> sql.Composable:
    """Whether row ``f`` belongs to the scope."""
    if scope.neighbourhood_ids:
        return sql.SQL("f.neighbourhood_id = ANY(%(nids)s)")
    if lines:
        return sql.SQL("ST_Intersects(f.geom, (SELECT a FROM area))")
    return sql.SQL("ST_Intersects((SELECT a FROM area), ST_PointOnSurface(f.geom))")


def _street_length(scope: Scope) -> sql.Composable:
    if scope.neighbourhood_ids:  # a street counts whole in the neighbourhood it belongs to
        return sql.SQL("ST_Length(f.geom::geography)")
    return sql.SQL("ST_Length(ST_Intersection(f.geom, (SELECT a FROM area))::geography)")


class _Query:
    """Runs indicator SQL over the scope's sources with the shared parameters (at, area, nid)."""

    def __init__(self, conn: psycopg.Connection, scope: Scope, at: datetime | None):
        self.conn, self.scope, self.at = conn, scope, at
        self.params = {"at": at, "area": scope.area, "nid": scope.neighbourhood_id,
                       "nids": list(scope.neighbourhood_ids)}  # fmt: skip

    def rows(self, body: str, **fmt: Any) -> list[dict[str, Any]]:
        values = {k: v if isinstance(v, sql.Composable) else sql.Literal(v) for k, v in fmt.items()}
        if body.startswith("WITH "):  # more CTEs: they join the sources' WITH list
            body = ", " + body.removeprefix("WITH ")
        query = (
            _sources(self.at, self.scope)
            + sql.SQL(" ")
            + sql.SQL(body).format(  # type: ignore[arg-type]
                inside=_inside(self.scope), lines_inside=_inside(self.scope, lines=True), **values
            )
        )
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, self.params).fetchall()


def _near_box(geom: sql.Composable, metres: float) -> sql.Composable:
    """The box of ``geom`` (EPSG:4326) grown by at least ``metres`` on the ellipsoid in every direction: a degree
    of latitude is at least 110,574 m, one of longitude at least 111,319 m × cos(latitude) at the geometry's
    farthest latitude from the equator; the 1 % more covers the few metres of latitude that ``metres`` adds and
    the sphere a distance may be measured on. Every point within ``metres`` of ``geom`` lies inside (a superset,
    for an index to find candidates that an exact test then decides)."""
    m = sql.Literal(float(metres) * 1.01)
    return sql.SQL(
        "ST_Expand({g}, {m} / (111319 * greatest(cos(radians(greatest(abs(ST_YMin({g})), abs(ST_YMax({g}))))), 0.01)), "
        "{m} / 110574)"
    ).format(g=geom, m=m)


def _pct(part: float | None, whole: float | None) -> float | None:
    return round(100.0 * (part or 0) / whole, 1) if whole else None


def _r(value: float | None, digits: int = 1) -> float | None:
    return round(value, digits) if value is not None else None


# Indicators ----------------------------------------------------------------------------------------


def _streets(q: _Query) -> dict[str, Any]:
    (row,) = q.rows(
        "SELECT count(*) AS n, coalesce(sum(len), 0) AS total, "
        "coalesce(sum(len) FILTER (WHERE surface = ANY({paved})), 0) AS paved, "
        "coalesce(sum(len) FILTER (WHERE lighting = 'lit'), 0) AS lit "
        "FROM (SELECT f.surface, f.lighting, {length} AS len FROM s_streets f WHERE {lines_inside}) s",
        length=_street_length(q.scope),
        paved=list(PAVED),
    )
    total = row["total"]
    return {
        "count": row["n"],
        "length_m": _r(total),
        "paved_m": _r(row["paved"]),
        "lit_m": _r(row["lit"]),
        "paved_pct": _pct(row["paved"], total),
        "lit_pct": _pct(row["lit"], total),
    }


def _parcels(q: _Query) -> dict[str, Any]:
    rows = q.rows("SELECT f.tenure, count(*) AS n FROM s_parcels f WHERE {inside} GROUP BY f.tenure ORDER BY f.tenure")
    by_tenure = {r["tenure"]: r["n"] for r in rows}
    total = sum(by_tenure.values())
    formal = sum(n for t, n in by_tenure.items() if t in FORMAL_TENURE)
    return {"count": total, "by_tenure": by_tenure, "formalised_pct": _pct(formal, total)}


def _blighted(q: _Query) -> dict[str, Any]:
    (row,) = q.rows(
        "SELECT count(*) AS n, coalesce(sum(ST_Area(f.geom::geography)), 0) AS area, "
        "count(*) FILTER (WHERE f.status = ANY({cleared})) AS cleared, "
        "coalesce(sum(ST_Area(f.geom::geography)) FILTER (WHERE f.status = ANY({cleared})), 0) AS cleared_area "
        "FROM s_blighted_plots f WHERE {inside}",
        cleared=list(CLEARED),
    )
    return {
        "count": row["n"],
        "area_m2": _r(row["area"]),
        "cleared_count": row["cleared"],
        "cleared_area_m2": _r(row["cleared_area"]),
        "cleared_pct": _pct(row["cleared"], row["n"]),
    }


def _workshops(q: _Query) -> dict[str, Any]:
    rows = q.rows("SELECT f.status, count(*) AS n FROM s_workshops f WHERE {inside} AND f.polluting GROUP BY f.status")
    by_status = {r["status"]: r["n"] for r in rows}
    return {
        "polluting": sum(by_status.values()),
        "active": sum(n for s, n in by_status.items() if s in ACTIVE_WORKSHOP),
        "sealed": by_status.get("sealed", 0),
        "by_status": by_status,
    }


def _service_points(q: _Query) -> dict[str, Any]:
    rows = q.rows(
        "SELECT f.category, count(*) AS n FROM s_service_points f WHERE {inside} GROUP BY f.category "
        "ORDER BY count(*) DESC, f.category"
    )
    return {"total": sum(r["n"] for r in rows), "by_category": {r["category"]: r["n"] for r in rows}}


def _green_space(q: _Query) -> dict[str, Any]:
    (row,) = q.rows(
        "SELECT coalesce(sum(ST_Area(f.geom::geography)), 0) AS park FROM s_parcels f "
        "WHERE {inside} AND f.land_use = 'park'"
    )
    population = q.scope.population
    per_resident = row["park"] / population if population else None
    return {"park_m2": _r(row["park"]), "population": population, "m2_per_resident": _r(per_resident, 2)}


def _coverage(q: _Query) -> dict[str, Any]:
    """Per service category with a rule: the share of the scope's homes within its distance (gis/coverage.py)."""
    return coverage.measure(q.conn, _sources(q.at, q.scope), _inside(q.scope), q.params)


def _priorities(q: _Query) -> dict[str, list[dict[str, Any]]]:
    # The box test (&&) lets the layer's GiST index find the candidates: a distance on geography cannot use it,
    # and without it every row of the layer was measured against every feature of the scope.
    near = (
        "CROSS JOIN LATERAL (SELECT n.id AS near_id, n.{label} AS near_name, "
        "ST_Distance(n.geom::geography, f.geom::geography) AS d FROM {src} n WHERE {cond} "
        "AND n.geom && {box} AND ST_DWithin(n.geom::geography, f.geom::geography, {dist}) ORDER BY d, n.id LIMIT 1) x "
    )

    def lateral(src: str, cond: str, label: str, dist: int) -> sql.Composable:
        return sql.SQL(near).format(
            src=sql.Identifier(src),
            cond=sql.SQL(cond),
            label=sql.Identifier(label),
            dist=sql.Literal(dist),
            box=_near_box(sql.SQL("f.geom"), dist),
        )

    school = "n.category = ANY(" + sql.Literal(list(SCHOOLS)).as_string() + ")"
    unlit = q.rows(
        "SELECT f.id, f.name, f.lighting, round(ST_Length(f.geom::geography)::numeric, 1)::float AS length_m, "
        "x.near_id AS school_id, x.near_name AS school, round(x.d::numeric, 1)::float AS distance_m "
        "FROM s_streets f {lat} WHERE {lines_inside} AND f.lighting = ANY({not_lit}) ORDER BY x.d, f.id",
        lat=lateral("s_service_points", school, "name", UNLIT_NEAR_SCHOOL_M),
        not_lit=list(NOT_LIT),
    )
    blight = q.rows(
        "SELECT f.id, f.kind, f.status, round(ST_Area(f.geom::geography)::numeric, 1)::float AS area_m2, "
        "x.near_id AS school_id, x.near_name AS school, round(x.d::numeric, 1)::float AS distance_m "
        "FROM s_blighted_plots f {lat} WHERE {inside} AND f.status = ANY({blighted}) ORDER BY x.d, f.id",
        lat=lateral("s_service_points", school, "name", BLIGHT_NEAR_SCHOOL_M),
        blighted=list(STILL_BLIGHTED),
    )
    yards = q.rows(
        "SELECT f.id, f.name, f.kind, f.status, x.near_id AS parcel_id, x.near_name AS parcel_code, "
        "round(x.d::numeric, 1)::float AS distance_m "
        "FROM s_workshops f {lat} WHERE {inside} AND f.polluting AND f.status = ANY({active}) ORDER BY x.d, f.id",
        lat=lateral("s_parcels", "n.land_use = 'residential'", "parcel_code", WORKSHOP_NEAR_HOMES_M),
        active=list(ACTIVE_WORKSHOP),
    )
    return {
        "unlit_streets_near_schools": unlit,
        "blighted_plots_near_schools": blight,
        "polluting_workshops_near_homes": yards,
    }


def compute(conn: psycopg.Connection, scope: Scope, as_of: date | datetime | None = None) -> dict[str, Any]:
    """Every indicator for ``scope``, live or as of a date (end of that day) or a moment."""
    at = end_of_day(as_of) if isinstance(as_of, date) and not isinstance(as_of, datetime) else as_of
    q = _Query(conn, scope, at)
    # On the ellipsoid, of the boundary without its vertices that lie within a centimetre of their neighbours'
    # line (a surveyed boundary's hundreds of thousands cost a quarter of a second; the area changes by at most
    # the perimeter times a centimetre).
    area = sql.SQL("SELECT ST_Area(ST_Simplify(a, 1e-7)::geography) FROM ({}) s").format(_area(scope))
    area_m2 = conn.execute(area, q.params).fetchone()[0]
    where = {
        "neighbourhood": scope.code,
        "name": scope.name,
        "area_m2": round(area_m2, 1),
        "polygon": None if scope.neighbourhood_ids else json.loads(shapely.to_geojson(shapely.from_wkb(scope.area))),
    }
    if scope.rollup:  # a roll-up names its neighbourhoods (and the group they were chosen by)
        where |= {"neighbourhoods": list(scope.codes), "group": scope.group, "population": scope.population}
    return {
        "scope": where,
        "as_of": as_of.isoformat() if as_of is not None else None,
        "streets": _streets(q),
        "parcels": _parcels(q),
        "blighted_plots": _blighted(q),
        "workshops": _workshops(q),
        "service_points": _service_points(q),
        "green_space": _green_space(q),
        "coverage": _coverage(q),
        "priorities": _priorities(q),
    }


# The scalar indicators a report compares from start to end: (key, section, field, unit).
SUMMARY: tuple[tuple[str, str, str, str], ...] = (
    ("street_length", "streets", "length_m", "m"),
    ("paved_pct", "streets", "paved_pct", "%"),
    ("lit_pct", "streets", "lit_pct", "%"),
    ("formalised_pct", "parcels", "formalised_pct", "%"),
    ("blighted_count", "blighted_plots", "count", "count"),
    ("blighted_area", "blighted_plots", "area_m2", "m2"),
    ("cleared_pct", "blighted_plots", "cleared_pct", "%"),
    ("polluting_active", "workshops", "active", "count"),
    ("polluting_sealed", "workshops", "sealed", "count"),
    ("service_points", "service_points", "total", "count"),
    ("green_per_resident", "green_space", "m2_per_resident", "m2"),
)
# Besides, one line per coverage rule: ``coverage_<category>``, the % of homes within its distance (see summary).
COVERAGE = "coverage_"


# Indicators where a fall is an improvement (the report colours changes by whether they are better).
LOWER_IS_BETTER = frozenset({"blighted_count", "blighted_area", "polluting_active"})


def summary(indicators: dict[str, Any]) -> dict[str, float | int | None]:
    """The SUMMARY figures, then the coverage of each category with a rule (``coverage_school`` …): the rules are
    the office's current settings, so a start and an end computed together have the same keys."""
    values = {key: indicators[section][field] for key, section, field, _ in SUMMARY}
    values |= {COVERAGE + c["category"]: c["pct"] for c in indicators["coverage"]["by_category"]}
    return values


def units(values: dict[str, Any]) -> dict[str, str]:
    """The unit of each figure of a ``summary``."""
    known = {key: unit for key, _, _, unit in SUMMARY}
    return {key: known.get(key, "%") for key in values}


def label(key: str, lang: str) -> str:
    """The report's label of a ``summary`` figure in ``lang``; a coverage figure names its category."""
    if not key.startswith(COVERAGE):
        return i18n.text(lang, "report", f"indicator.{key}")
    category = key.removeprefix(COVERAGE)
    choices = {c.value: c.label for c in service_points.LAYER.attribute("category").choices}
    choices["park"] = next(c.label for c in parcels.LAYER.attribute("land_use").choices if c.value == "park")
    name = text_in(choices[category], lang) if category in choices else category
    return i18n.text(lang, "report", "indicator.coverage", category=name)
