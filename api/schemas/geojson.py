"""GeoJSON as the API takes it: geometries (longitude/latitude), and the feature a client writes through OGC API –
Features Part 4, for ``/openapi.json``.

What a feature's properties may be depends on the collection: ``layers.edit.parse_feature`` checks them against
the catalogue (names, types, value lists, ranges) and the database checks them again; the collection's properties
are listed at ``/ogc/collections/{cid}/queryables`` and ``/layers/{name}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Model

Number = Annotated[float, Field(strict=True)]  # a JSON number (an integer is one too), finite

Position = Annotated[list[Number], Field(min_length=2, max_length=3, description="[longitude, latitude]")]
Line = Annotated[list[Position], Field(min_length=2)]
Ring = Annotated[list[Position], Field(min_length=4, description="Closed: the last position repeats the first")]


class Point(Model):
    type: Literal["Point"]
    coordinates: Position


class MultiPoint(Model):
    type: Literal["MultiPoint"]
    coordinates: list[Position]


class LineString(Model):
    type: Literal["LineString"]
    coordinates: Line


class MultiLineString(Model):
    type: Literal["MultiLineString"]
    coordinates: list[Line]


class Polygon(Model):
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1)]


class MultiPolygon(Model):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Annotated[list[Ring], Field(min_length=1)]], Field(min_length=1)]


Geometry = Annotated[
    Point | MultiPoint | LineString | MultiLineString | Polygon | MultiPolygon,
    Field(discriminator="type", description="GeoJSON geometry in longitude/latitude (WGS 84)"),
]
Area = Annotated[Polygon | MultiPolygon, Field(discriminator="type", description="GeoJSON Polygon or MultiPolygon")]


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
