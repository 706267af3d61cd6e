"""The typed shape of a custom-layer definition, as a planner sends it (``POST /layers``, ``mahalle layer create``).

Every field is checked before anything reaches the database: names match a strict pattern, numbers are
finite numbers, strings and lists have bounded sizes, unknown keys are refused. The database checks the
stored definition again (``mahalle.create_custom_layer``), and composes it into DDL only with ``%I``/``%L``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from layers.spec import ATTR_NAME_RE, LANGUAGES, NAME_RE, SYSTEM_COLUMNS, SpecError

MAX_ATTRIBUTES = 100
MAX_CHOICES = 200


def _plain_text(value: str) -> str:
    """Text PostgreSQL can store as it is: no NUL character, no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode text (a lone surrogate)") from None
    return value


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[StrictStr, Field(min_length=min_length, max_length=max_length), AfterValidator(_plain_text)]


Lang = Literal[LANGUAGES]  # type: ignore[valid-type]
Label = _text(200, 1) | dict[Lang, _text(200, 1)]
LongText = _text(2000) | dict[Lang, _text(2000)]
LayerName = Annotated[StrictStr, Field(pattern=NAME_RE.pattern, max_length=48)]
AttributeName = Annotated[StrictStr, Field(pattern=ATTR_NAME_RE.pattern, max_length=48)]
Number = Annotated[StrictInt | StrictFloat, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
GeometryName = Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "Geometry"]
AttributeKind = Literal["text", "integer", "number", "boolean", "date", "datetime", "choice", "choices", "reference"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceDefinition(_Strict):
    value: _text(200, 1)
    label: Label | None = None
    color: Annotated[StrictStr, Field(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None


class AttributeDefinition(_Strict):
    name: AttributeName
    type: AttributeKind
    label: Label | None = None
    help: LongText | None = None
    required: StrictBool = False
    choices: Annotated[list[_text(200, 1) | ChoiceDefinition], Field(max_length=MAX_CHOICES)] = []
    default: _text(2000) | StrictBool | Number | None = None
    unit: _text(20) | None = None
    minimum: Number | None = None
    maximum: Number | None = None
    max_length: Annotated[StrictInt, Field(ge=1, le=100_000)] | None = None
    references: LayerName | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AttributeDefinition:
        if self.name in SYSTEM_COLUMNS:
            raise ValueError(f"attribute name {self.name!r} is reserved by Mahalle")
        if self.choices and self.type not in ("choice", "choices"):
            raise ValueError(f"{self.name}: only choice and choices attributes have a list of values")
        if self.type in ("choice", "choices") and not self.choices:
            raise ValueError(f"attribute {self.name!r} is a value list but has no values")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"{self.name}: a value appears twice in the list")
        if (self.minimum is not None or self.maximum is not None) and self.type not in ("integer", "number"):
            raise ValueError(f"{self.name}: minimum and maximum apply to integer and number attributes")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"{self.name}: the minimum is larger than the maximum")
        if self.max_length is not None and self.type != "text":
            raise ValueError(f"{self.name}: max_length applies to text attributes")
        if (self.type == "reference") != (self.references is not None):
            raise ValueError(f"{self.name}: a reference attribute, and only one, names the layer it refers to")
        if self.default is not None:
            self._check_default()
        return self

    @property
    def values(self) -> list[str]:
        return [c if isinstance(c, str) else c.value for c in self.choices]

    def _check_default(self) -> None:
        d, kind = self.default, self.type
        fits = {
            "text": isinstance(d, str) and (self.max_length is None or len(d) <= self.max_length),
            "choice": d in self.values,
            "integer": isinstance(d, int) and not isinstance(d, bool),
            "number": isinstance(d, int | float) and not isinstance(d, bool) and math.isfinite(d),
            "boolean": isinstance(d, bool),
            "date": isinstance(d, str) and _parses(dt.date.fromisoformat, d),
            "datetime": isinstance(d, str) and _parses(dt.datetime.fromisoformat, d),
        }.get(kind, False)
        if not fits:
            raise ValueError(f"{self.name}: the default {d!r} is not a valid {kind} value")
        if kind in ("integer", "number") and not (
            (self.minimum is None or d >= self.minimum) and (self.maximum is None or d <= self.maximum)
        ):
            raise ValueError(f"{self.name}: the default {d!r} is outside the allowed range")


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


class LayerDefinition(_Strict):
    """A custom layer as a planner defines it."""

    name: LayerName
    kind: Literal["custom"] = "custom"  # what the catalogue says of it; only custom layers are made at run time
    title: Label | None = None
    description: LongText | None = None
    geometry_type: GeometryName | None = None
    geometry_required: StrictBool = True  # false: features may be recorded before they are located
    attributes: Annotated[list[AttributeDefinition], Field(max_length=MAX_ATTRIBUTES)] = []
    key_attribute: AttributeName | None = None
    label_attribute: AttributeName | None = None
    date_attribute: AttributeName | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LayerDefinition:
        names = [a.name for a in self.attributes]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"attribute {name!r} is declared twice")
        for key in ("key_attribute", "label_attribute", "date_attribute"):
            if (value := getattr(self, key)) is not None and value not in names:
                raise ValueError(f"{key} {value!r} is not one of the layer's attributes")
        return self


def parse_definition(data: Any) -> LayerDefinition:
    """The definition, or a ``SpecError`` that says in words what is wrong with it (422)."""
    if isinstance(data, LayerDefinition):
        return data
    try:
        return LayerDefinition.model_validate(data)
    except ValidationError as exc:
        raise SpecError("The layer definition is not valid: " + explain(exc)) from None


def explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        kind, given = error["type"], error.get("input")
        if kind == "missing":
            message = "is missing (the definition is incomplete)"
        elif kind == "extra_forbidden":
            message = "is not a known field"
        elif kind == "string_pattern_mismatch":
            message = f"{given!r} must start with a letter and use only a-z, 0-9 and _ (at most 48 characters)"
        elif kind == "literal_error" and error["loc"][-1] == "type":
            message = f"unknown type {given!r}; use one of {error['ctx']['expected']}"
        elif kind == "literal_error":
            message = f"{given!r} is not one of {error['ctx']['expected']}"
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
