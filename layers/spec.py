"""The vocabulary a layer is described in: attributes, value lists, translations, styling hints.

A ``Layer`` is the single description of a layer that the DDL generator, the API, the forms, the
importers and the exports all read. Core layers are declared in Python (one module per kind); custom
layers are the same structure stored as JSON in ``mahalle.layer_registry``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from core.i18n import LANGUAGES  # one catalogue per language in core/i18n/: adding a file adds a language

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
ATTR_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")

AttrType = Literal["text", "integer", "number", "boolean", "date", "datetime", "choice", "choices", "reference"]
GeometryType = Literal["Point", "MultiPoint", "MultiLineString", "MultiPolygon", "Geometry"]
GEOMETRY_TYPES: tuple[str, ...] = ("Point", "MultiPoint", "MultiLineString", "MultiPolygon", "Geometry")
ATTR_TYPES: tuple[str, ...] = AttrType.__args__  # type: ignore[attr-defined]

# Columns every layer table has; attributes may not reuse these names.
SYSTEM_COLUMNS = (
    "id",
    "uid",
    "neighbourhood_id",
    "geom",
    "area_m2",
    "length_m",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "source",
    "source_id",
)


# System columns that clients can read (and filter and sort on), with their catalogue types.
SYSTEM_PROPERTIES: dict[str, str] = {
    "uid": "text",
    "neighbourhood_id": "integer",
    "area_m2": "number",
    "length_m": "number",
    "version": "integer",
    "created_at": "datetime",
    "created_by": "text",
    "updated_at": "datetime",
    "updated_by": "text",
    "source": "text",
    "source_id": "text",
}
# System columns a client may set when writing a feature (the rest the database maintains).
WRITABLE_SYSTEM = ("neighbourhood_id", "uid", "source", "source_id")


def tr(en: str, fa: str = "", ar: str = "", el: str = "", **others: str) -> dict[str, str]:
    """A translated string (``others``: more languages by code, e.g. ``fr="Rue"``); missing languages
    fall back to English when read, and only languages with a catalogue are kept."""
    given = {"en": en, "fa": fa, "ar": ar, "el": el, **others}
    return {k: v for k, v in given.items() if v and k in LANGUAGES}


def text_in(value: dict[str, str], lang: str) -> str:
    """``value`` in ``lang``, or in English when it has no translation into ``lang``."""
    return value.get(lang) or value.get("en", "")


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict[str, str]
    color: str | None = None  # styling hint for the layer's key attribute
    retired: bool = False  # stays on the rows that have it, not offered for new values (layers/vocabulary.py)


def choices(*items: tuple[str, dict[str, str]] | tuple[str, dict[str, str], str]) -> tuple[Choice, ...]:
    return tuple(Choice(*item) for item in items)


@dataclass(frozen=True)
class Attribute:
    name: str
    type: AttrType
    label: dict[str, str]
    required: bool = False
    choices: tuple[Choice, ...] = ()
    default: Any = None
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    references: str | None = None  # layer name, for type "reference"
    # A value list the code follows (a lifecycle, the board's columns): the office translates its entries, and
    # adds or retires none (mahalle.vocabulary refuses).
    fixed: bool = False
    help: dict[str, str] = field(default_factory=dict)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)


@dataclass(frozen=True)
class Check:
    """A rule across attributes, enforced by the database. ``sql`` is trusted catalogue text."""

    name: str
    sql: str
    message: str


@dataclass(frozen=True)
class Layer:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    geometry_type: GeometryType | None
    attributes: tuple[Attribute, ...]
    kind: Literal["core", "planning", "custom"] = "core"
    measure: Literal["area", "length", "both"] | None = None
    key_attribute: str | None = None  # what the map styles by
    label_attribute: str | None = None  # what the map labels with
    date_attribute: str | None = None  # what OGC `datetime` filters on (default updated_at)
    geometry_required: bool = True
    neighbourhood_scoped: bool = True  # carries neighbourhood_id
    checks: tuple[Check, ...] = ()
    unique: tuple[str, ...] = ()  # attributes unique across the layer
    # What a field worker may change on features of this layer (the database enforces it: mahalle.permit_rows)
    field_editable: tuple[str, ...] = ()

    @cached_property
    def memo(self) -> dict[Any, Any]:
        """What is derived from this (immutable) layer and worth keeping with it, such as statements rendered
        once instead of on every request. Not a field: equality, copies and JSON ignore it."""
        return {}

    def attribute(self, name: str) -> Attribute:
        for a in self.attributes:
            if a.name == name:
                return a
        raise KeyError(name)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)

    def property_types(self) -> dict[str, str]:
        """Every property a client sees on a feature of this layer, with its type."""
        system = {
            name: kind
            for name, kind in SYSTEM_PROPERTIES.items()
            if (name != "neighbourhood_id" or self.neighbourhood_scoped)
            and (name not in ("area_m2", "length_m") or name in self.generated_columns)
        }
        return {**{a.name: a.type for a in self.attributes}, **system}

    @property
    def time_column(self) -> str:
        return self.date_attribute or "updated_at"

    @property
    def has_geometry(self) -> bool:
        return self.geometry_type is not None

    @property
    def generated_columns(self) -> tuple[str, ...]:
        return {"area": ("area_m2",), "length": ("length_m",), "both": ("area_m2", "length_m"), None: ()}[self.measure]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.field_editable:  # custom definitions have no such key (mahalle.create_custom_layer)
            del data["field_editable"]
        for a in data["attributes"]:  # nor has a definition's value list a retired entry, or a fixed list
            if not a["fixed"]:
                del a["fixed"]
            for c in a["choices"]:
                if not c["retired"]:
                    del c["retired"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layer:
        attrs = tuple(
            Attribute(**{**a, "choices": tuple(Choice(**c) for c in a.get("choices", ()))}) for a in data["attributes"]
        )
        checks = tuple(Check(**c) for c in data.get("checks", ()))
        return cls(
            **{
                **data,
                "attributes": attrs,
                "checks": checks,
                "unique": tuple(data.get("unique", ())),
                "field_editable": tuple(data.get("field_editable", ())),
            }
        )

    def without(self, attribute: str) -> Layer:
        """This layer as it was before ``attribute`` was added (migrations going down)."""
        return replace(
            self,
            attributes=tuple(a for a in self.attributes if a.name != attribute),
            field_editable=tuple(n for n in self.field_editable if n != attribute),
        )


class SpecError(ValueError):
    """A layer description that cannot become a table."""


def validate_layer(layer: Layer) -> None:
    """Refuse names and types that would make an unsafe or broken table. Messages are for planners."""
    if not NAME_RE.match(layer.name):
        raise SpecError(
            f"Layer name {layer.name!r} must start with a letter and use only a-z, 0-9 and _ (2-48 characters)."
        )
    if layer.geometry_type is not None and layer.geometry_type not in GEOMETRY_TYPES:
        raise SpecError(f"Geometry type {layer.geometry_type!r} is not one of {', '.join(GEOMETRY_TYPES)}.")
    if not layer.title.get("en"):
        raise SpecError(f"Layer {layer.name!r} needs an English title.")
    seen: set[str] = set()
    for a in layer.attributes:
        if not ATTR_NAME_RE.match(a.name):
            raise SpecError(f"Attribute name {a.name!r} must start with a letter and use only a-z, 0-9 and _.")
        if a.name in SYSTEM_COLUMNS:
            raise SpecError(f"Attribute name {a.name!r} is reserved by Mahalle.")
        if a.name in seen:
            raise SpecError(f"Attribute {a.name!r} is declared twice.")
        seen.add(a.name)
        if a.type not in ATTR_TYPES:
            raise SpecError(f"Attribute {a.name!r} has unknown type {a.type!r}; use one of {', '.join(ATTR_TYPES)}.")
        if a.type in ("choice", "choices") and not a.choices:
            raise SpecError(f"Attribute {a.name!r} is a value list but has no values.")
        if any(c.color and not COLOR_RE.match(c.color) for c in a.choices):
            raise SpecError(f"Attribute {a.name!r}: colours are written #rrggbb.")
        if a.type == "reference" and not a.references:
            raise SpecError(f"Attribute {a.name!r} refers to no layer.")
    for name in layer.field_editable:
        if name not in seen:
            raise SpecError(f"Field workers may change {name!r}, which is not an attribute of {layer.name!r}.")
