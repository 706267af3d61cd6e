"""Geometry checks before a load: CRS → EPSG:4326, swapped axes, validity (repair or reject), the layer's
geometry type (single → multi), empty geometries; and duplicate source ids.

Work is vectorised with shapely 2 / pyproj over a batch; Python only loops over the rows that have a
problem, to say what it is. The database checks everything again (``mahalle.prepare_geometry``), so
these checks are for good row-by-row messages, not the last line of defence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError

from core import limits
from core.errors import MahalleError
from layers.spec import Layer

WGS84 = pyproj.CRS.from_epsg(4326)
# Formats whose coordinates are longitude/latitude by definition when the file names no CRS.
LONLAT_FORMATS = ("geojson", "kml", "kmz", "csv", "xlsx", "osm")
DIMENSION = {"Point": 0, "MultiPoint": 0, "MultiLineString": 1, "MultiPolygon": 2}
TYPE_IDS = {"Point": 0, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}  # shapely.get_type_id
MULTI = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}


class CrsProblem(MahalleError):
    """The coordinate reference system of the data is missing or unknown."""


def parse_crs(text: str, what: str) -> pyproj.CRS:
    try:
        crs = pyproj.CRS.from_user_input(text)
    except CRSError:
        raise CrsProblem(f"{what}: the CRS {text!r} is not known; give it as EPSG:<code>.") from None
    if not (crs.is_geographic or crs.is_projected):
        raise CrsProblem(f"{what}: the CRS {crs.name!r} is not a geographic or projected CRS Mahalle can convert.")
    return crs


def source_crs(file_crs: str | None, given: str | None, fmt: str, what: str) -> pyproj.CRS:
    """The CRS to read coordinates in: ``--crs`` if given, else the file's; never guessed for Shapefiles."""
    if given:
        return parse_crs(given, what)
    if file_crs:
        return parse_crs(file_crs, what)
    if fmt in LONLAT_FORMATS:
        return WGS84
    hint = "it has no .prj file" if fmt == "shp" else "it does not say which CRS its coordinates are in"
    raise CrsProblem(f"{what}: {hint}; give the CRS (e.g. --crs EPSG:32638).")


def to_wgs84(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Reproject to longitude/latitude (EPSG:4326, x = longitude), vectorised."""
    if crs == WGS84 or crs.equals(WGS84, ignore_axis_order=True):
        return geoms
    transformer = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return np.column_stack([x, y])

    return shapely.transform(geoms, project)


@dataclass
class Checked:
    geometry: np.ndarray  # fitted, valid geometries (None where rejected)
    rejected: dict[int, str]  # index in batch → reason
    repaired: dict[int, str]  # index in batch → what was wrong


def check_geometries(geoms: np.ndarray, layer: Layer, repair: bool) -> Checked:
    out = np.array(geoms, dtype=object, copy=True)
    rejected: dict[int, str] = {}
    repaired: dict[int, str] = {}
    missing = shapely.is_missing(out)
    empty = ~missing & shapely.is_empty(np.where(missing, shapely.Point(), out))
    for i in np.flatnonzero(missing):
        rejected[int(i)] = "the feature has no geometry"
    for i in np.flatnonzero(empty):
        rejected[int(i)] = "the geometry is empty"
    present = ~(missing | empty)
    rejected.update(limits.too_many_vertices(out, present))  # before validity, which is costly on huge shapes
    present &= ~np.isin(np.arange(len(out)), list(rejected))
    _check_range(out, present, rejected)
    present &= ~np.isin(np.arange(len(out)), list(rejected))
    invalid = present & ~shapely.is_valid(np.where(present, out, shapely.Point(0, 0)))
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(out[i])
        if repair:
            out[i] = shapely.make_valid(out[i])
            repaired[int(i)] = f"invalid geometry repaired ({reason})"
        else:
            rejected[int(i)] = f"the geometry is invalid: {reason} (use the repair policy to fix it)"
    for i in np.flatnonzero(present & ~_of_type(out, layer.geometry_type)):  # the rest fit as they are
        if int(i) in rejected:
            continue
        fitted, problem = fit(out[i], layer)
        if problem:
            rejected[int(i)] = problem
        out[i] = fitted
    for i in rejected:
        out[i] = None
    return Checked(out, rejected, repaired)


def _of_type(geoms: np.ndarray, want: str | None) -> np.ndarray:
    """Which geometries are already of the layer's type (a missing one counts as not)."""
    if want not in TYPE_IDS:
        return np.zeros(len(geoms), dtype=bool)
    return shapely.get_type_id(geoms) == TYPE_IDS[want]


def _check_range(geoms: np.ndarray, present: np.ndarray, rejected: dict[int, str]) -> None:
    bounds = np.full((len(geoms), 4), np.nan)
    if present.any():
        bounds[present] = shapely.bounds(geoms[present])
    xmin, ymin, xmax, ymax = bounds.T
    with np.errstate(invalid="ignore"):
        ok = (xmin >= -180) & (xmax <= 180) & (ymin >= -90) & (ymax <= 90)
        swapped = (ymin >= -180) & (ymax <= 180) & (xmin >= -90) & (xmax <= 90)
    for i in np.flatnonzero(present & ~ok):
        if np.isnan(bounds[i]).any():
            rejected[int(i)] = "the coordinates are not numbers (NaN or infinite)"
        elif swapped[i]:
            rejected[int(i)] = "latitude and longitude look swapped (the first coordinate is over 90)"
        else:
            rejected[int(i)] = (
                f"the coordinates (x {xmin[i]:.6g}..{xmax[i]:.6g}, y {ymin[i]:.6g}..{ymax[i]:.6g}) are not "
                "longitude/latitude after reprojection: is the CRS right? (--crs)"
            )


def fit(geom: shapely.Geometry, layer: Layer) -> tuple[shapely.Geometry | None, str | None]:
    """The geometry in the layer's type (single → multi, a one-point multipoint → point), or why not."""
    want = layer.geometry_type
    geom = _flatten(geom, DIMENSION.get(want or ""))
    if geom is None or geom.is_empty:
        return None, f"the geometry does not fit this layer, which holds {_plural(want)}"
    kind = geom.geom_type
    if want == "Geometry":
        return (geom, None) if kind != "GeometryCollection" else (None, "a geometry collection cannot be stored")
    if kind == want:
        return geom, None
    if want and want.startswith("Multi") and kind == want[5:]:
        return MULTI[kind]([geom]), None
    if want == "Point" and kind == "MultiPoint" and len(geom.geoms) == 1:
        return geom.geoms[0], None
    return None, f"a {kind} does not fit this layer, which holds {_plural(want)}"


def _plural(want: str | None) -> str:
    return f"{want} geometries" if want else "no geometry"


def _flatten(geom: shapely.Geometry, dimension: int | None) -> shapely.Geometry | None:
    """A collection (e.g. from make_valid) reduced to its parts of the layer's dimension, as one shape."""
    if geom.geom_type == "LinearRing":
        return shapely.LineString(geom.coords)
    if geom.geom_type != "GeometryCollection" or dimension is None:
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == dimension and not p.is_empty]
    if not parts:
        return None
    singles = [s for p in parts for s in shapely.get_parts(p)]
    return shapely.union_all(singles) if dimension == 2 else MULTI[singles[0].geom_type](singles)


def duplicates(ids: list[str | None], seen: dict[str, int], offset: int) -> dict[int, str]:
    """Rows whose source id is blank or was already used (by row number, 1-based over the whole file)."""
    out: dict[int, str] = {}
    for i, source_id in enumerate(ids):
        if source_id is None:
            out[i] = "the feature has no id"
        elif source_id in seen:
            out[i] = f"duplicate id {source_id!r} (also row {seen[source_id]})"
        else:
            seen[source_id] = offset + i + 1
    return out
