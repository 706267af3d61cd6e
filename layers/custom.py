"""Custom layers: planners define a layer (name, geometry type, attributes) at run time.

A custom layer becomes a real table through the same DDL as the core layers, so it gets the same
rules, history, versions, spatial index and neighbourhood derivation.
"""

from __future__ import annotations

from typing import Any

import psycopg

from layers import ddl
from layers.catalogue import core_catalogue, load_catalogue
from layers.spec import Layer, SpecError, validate_layer

RESERVED = {
    "intervention_targets",
    "task_links",
    "task_updates",
    "attachments",
    "spatial_ref_sys",
    "alembic_version",
    "geometry_columns",
    "geography_columns",
    "layer_registry",
    "history",
}


def layer_from_definition(data: dict[str, Any]) -> Layer:
    """Build a custom ``Layer`` from a plain definition (CLI, JSON body), with planner-readable errors."""
    try:
        spec = {
            "name": data["name"],
            "title": data.get("title") or {"en": data["name"].replace("_", " ").capitalize()},
            "description": data.get("description") or {},
            "geometry_type": data.get("geometry_type"),
            "attributes": [
                {"label": {"en": a["name"].replace("_", " ").capitalize()}, **a} for a in data.get("attributes", [])
            ],
            "kind": "custom",
        }
        for key in ("key_attribute", "label_attribute", "date_attribute"):
            if data.get(key):
                spec[key] = data[key]
        if isinstance(spec["title"], str):
            spec["title"] = {"en": spec["title"]}
        if isinstance(spec["description"], str):
            spec["description"] = {"en": spec["description"]}
        for a in spec["attributes"]:
            if isinstance(a.get("label"), str):
                a["label"] = {"en": a["label"]}
            a["choices"] = [
                c if isinstance(c, dict) else {"value": str(c), "label": {"en": str(c)}} for c in a.get("choices", [])
            ]
        if spec["geometry_type"] in ("Polygon", "LineString"):
            spec["geometry_type"] = "Multi" + spec["geometry_type"]
        if spec["geometry_type"] == "MultiPolygon":
            spec["measure"] = "area"
        elif spec["geometry_type"] == "MultiLineString":
            spec["measure"] = "length"
        layer = Layer.from_json(spec)
    except (KeyError, TypeError) as exc:
        raise SpecError(f"The layer definition is incomplete or malformed: {exc}") from exc
    validate_layer(layer)
    return layer


def create_custom_layer(conn: psycopg.Connection, layer: Layer) -> Layer:
    """Create the table and register it, in one transaction: all or nothing."""
    validate_layer(layer)
    if layer.kind != "custom":
        raise SpecError("Only custom layers can be created at run time.")
    if layer.name in RESERVED or layer.name in core_catalogue() or layer.name in load_catalogue(conn):
        raise SpecError(f"A layer or table named {layer.name!r} already exists.")
    for a in layer.attributes:
        if a.type == "reference" and a.references not in load_catalogue(conn):
            raise SpecError(f"Attribute {a.name!r} refers to {a.references!r}, which is not a layer.")
    with conn.transaction():
        for statement in ddl.create_layer_statements(layer):
            conn.execute(statement)
    return layer


def drop_custom_layer(conn: psycopg.Connection, name: str) -> None:
    """Drop a custom layer. Its history rows stay, so the data can still be read as of a past date."""
    cat = load_catalogue(conn)
    layer = cat[name]
    if layer.kind != "custom":
        raise SpecError(f"{name!r} is a core layer and cannot be dropped.")
    with conn.transaction():
        for statement in ddl.drop_layer_statements(layer):
            conn.execute(statement)
