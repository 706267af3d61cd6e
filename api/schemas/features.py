"""The shape of a feature a client writes through OGC API – Features Part 4, for ``/openapi.json``.

What the properties may be depends on the collection: ``layers.edit.parse_feature`` checks them against the
catalogue (names, types, value lists, ranges) and the database checks them again; the collection's properties are
listed at ``/ogc/collections/{cid}/queryables`` and ``/layers/{name}``. These models say what every collection
shares: a GeoJSON Feature.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Geometry(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(description="GeoJSON positions; at most MAHALLE_MAX_VERTICES of them")


class FeatureIn(BaseModel):
    """A GeoJSON Feature: ``properties`` are the collection's attributes (see its schema)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Feature"]
    id: int | str | None = Field(default=None, description="Ignored on create; on replace, the id of the URL")
    geometry: Geometry | None
    properties: dict[str, Any] | None = Field(
        default=None, description="The collection's attributes; uid, source and source_id may be given on create"
    )


class FeaturePatch(BaseModel):
    """A JSON merge patch (RFC 7396) of a feature: only what it names changes, ``null`` clears."""

    model_config = ConfigDict(extra="allow")

    geometry: Geometry | None = None
    properties: dict[str, Any] | None = None
