"""Coordinate reference systems the API speaks: URIs, SRIDs, axis order, a neighbourhood's UTM zone.

Storage is always EPSG:4326 with longitude first (PostGIS order). OGC URIs name the CRS on the wire;
EPSG:4326 on the wire is latitude first, so those coordinates are swapped in and out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS

from core.errors import MahalleError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
_EPSG_URI_RE = re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d+)$")
_EPSG_CURIE_RE = re.compile(r"^\[?EPSG:(\d+)\]?$", re.IGNORECASE)
_CRS84_NAMES = {CRS84, "http://www.opengis.net/def/crs/OGC/0/CRS84", "OGC:CRS84", "CRS84", "[OGC:CRS84]"}
BASE_CODES = (4326, 3857)


class UnsupportedCRS(MahalleError):
    """A coordinate reference system that is not offered."""


@dataclass(frozen=True)
class ApiCRS:
    uri: str
    srid: int  # what PostGIS transforms to
    lat_first: bool  # coordinates are swapped on the wire

    @property
    def is_storage_order(self) -> bool:
        return self.srid == 4326 and not self.lat_first


STORAGE = ApiCRS(CRS84, 4326, False)


def epsg_uri(code: int) -> str:
    return EPSG_URI.format(code=code)


@lru_cache(maxsize=64)
def _lat_first(code: int) -> bool:
    return CRS.from_epsg(code).axis_info[0].direction in ("north", "south")


def parse_crs(text: str | None, allowed: tuple[str, ...]) -> ApiCRS:
    """A CRS named by URI (or EPSG:n) that this collection offers; anything else is a 400."""
    if not text or text.strip() in _CRS84_NAMES:
        return STORAGE
    text = text.strip()
    match = _EPSG_URI_RE.match(text) or _EPSG_CURIE_RE.match(text)
    if not match or epsg_uri(int(match.group(1))) not in allowed:
        offered = ", ".join(allowed)
        raise UnsupportedCRS(f"The CRS {text!r} is not offered here; use one of: {offered}")
    code = int(match.group(1))
    return ApiCRS(epsg_uri(code), code, _lat_first(code))


def offered_crs(utm_codes: list[int]) -> tuple[str, ...]:
    """CRS84 first (OGC requires it), then EPSG:4326, Web Mercator and the neighbourhoods' UTM zones."""
    return (CRS84, *(epsg_uri(c) for c in (*BASE_CODES, *sorted(set(utm_codes)))))
