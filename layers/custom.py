"""Custom layers: planners define a layer (name, geometry type, attributes) at run time.

A definition is checked twice: here, field by field (``layers.definition``, planner-readable 422s), and
again in the database by ``mahalle.create_custom_layer``, a ``SECURITY DEFINER`` function of the owner role
that composes the table with ``%I``/``%L`` only, so the application role needs no DDL rights at all. The
table gets the same rules as a core layer: value lists, ranges and geometry checks (by the generic trigger
``mahalle.validate_custom``, which reads the registered definition, so no value ever becomes code), history,
versions, spatial index and neighbourhood derivation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from layers.catalogue import core_catalogue, load_catalogue
from layers.definition import AttributeDefinition, parse_definition
from layers.spec import Attribute, Choice, Layer, SpecError, validate_layer

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


def layer_from_definition(data: Any) -> Layer:
    """Build a custom ``Layer`` from a plain definition (CLI, JSON body), with planner-readable errors."""
    d = parse_definition(data)
    geometry = "Multi" + d.geometry_type if d.geometry_type in ("Polygon", "LineString") else d.geometry_type
    layer = Layer(
        name=d.name,
        title=_translated(d.title) or {"en": d.name.replace("_", " ").capitalize()},
        description=_translated(d.description) or {},
        geometry_type=geometry,
        geometry_required=d.geometry_required,
        attributes=tuple(_attribute(a) for a in d.attributes),
        kind="custom",
        measure={"MultiPolygon": "area", "MultiLineString": "length"}.get(geometry or ""),
        key_attribute=d.key_attribute,
        label_attribute=d.label_attribute,
        date_attribute=d.date_attribute,
    )
    validate_layer(layer)
    return layer


def _translated(text: str | dict[str, str] | None) -> dict[str, str] | None:
    return {"en": text} if isinstance(text, str) else (dict(text) if text else None)


def _attribute(a: AttributeDefinition) -> Attribute:
    return Attribute(
        name=a.name,
        type=a.type,
        label=_translated(a.label) or {"en": a.name.replace("_", " ").capitalize()},
        required=a.required,
        choices=tuple(
            Choice(c, {"en": c})
            if isinstance(c, str)
            else Choice(c.value, _translated(c.label) or {"en": c.value}, c.color)
            for c in a.choices
        ),
        default=a.default,
        unit=a.unit,
        minimum=a.minimum,
        maximum=a.maximum,
        max_length=a.max_length,
        references=a.references,
        help=_translated(a.help) or {},
    )


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
    # The application role may not run DDL: the owner's SECURITY DEFINER function checks the definition
    # again and composes the table from it (layers/sql/custom_layers.sql).
    with conn.transaction(), _refused_as_spec_error():
        conn.execute("SELECT mahalle.create_custom_layer(%s)", (Jsonb(layer.to_json()),))
    return layer


def drop_custom_layer(conn: psycopg.Connection, name: str) -> None:
    """Drop a custom layer. Its history rows stay, so the data can still be read as of a past date."""
    cat = load_catalogue(conn)
    layer = cat[name]
    if layer.kind != "custom":
        raise SpecError(f"{name!r} is a core layer and cannot be dropped.")
    with conn.transaction(), _refused_as_spec_error():
        conn.execute("SELECT mahalle.drop_custom_layer(%s)", (name,))


@contextmanager
def _refused_as_spec_error() -> Iterator[None]:
    """The database's own refusal of a definition (SQLSTATE 22023 or another data error, a name taken twice): 422."""
    try:
        yield
    except (psycopg.DataError, psycopg.errors.DuplicateObject, psycopg.errors.DuplicateTable) as exc:
        raise SpecError(exc.diag.message_primary or str(exc)) from None
