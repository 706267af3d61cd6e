"""Request bodies as pydantic models: checked where the body is read, described in ``/openapi.json``.

A body is read by ``api.deps.read_json`` in the event loop (415 for a wrong media type, 413 past
``MAHALLE_MAX_BODY_MB``, 400 for malformed JSON, NaN, NUL or a lone surrogate), then validated against its
model: unknown members, wrong types, too long texts or lists are a 422 problem naming the property
(``property``), in the same words as the catalogue checks of ``layers.edit``. The handler gets the model.

FastAPI would read and parse the body itself for a model parameter (without those limits), so the
models are not parameters: ``request_body(Model)`` gives the ``openapi_extra`` that documents them.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.deps import read_json
from core.errors import InvalidInput
from layers.edit import json_type

BIGINT = 2**63 - 1  # ids are PostgreSQL bigint
MAX_TEXT = 10_000  # free text without a length of its own in the catalogue

M = TypeVar("M", bound=BaseModel)


class Model(BaseModel):
    """A request body: unknown members are refused, numbers must be finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    def data(self) -> dict[str, Any]:
        """What the client sent, as JSON values (dates as ISO text); members it left out stay out (a merge
        patch changes only what it names, and ``null`` clears)."""
        return self.model_dump(mode="json", exclude_unset=True)


def reader(model: type[M], *media_types: str) -> Callable[[Request], Awaitable[M]]:
    """A dependency: the body read with the app's limits and validated as ``model``."""

    async def read(request: Request) -> M:
        return validate(model, await read_json(request, request.app.state.settings, media_types))

    read.__name__ = f"read_{model.__name__}"
    return read


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc, model) from None


def request_body(model: type[BaseModel], *media_types: str) -> dict[str, Any]:
    """``openapi_extra`` describing ``model`` as the operation's (required) request body."""
    schema = inline(model.model_json_schema(mode="validation"))
    return {"requestBody": {"required": True, "content": {m: {"schema": schema} for m in media_types}}}


def inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema with its ``$defs`` put in place: it is embedded in the OpenAPI document, where a
    ``#/$defs/…`` reference would point at the document's root. (No model here refers to itself.)"""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]))
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


# --- the errors ---------------------------------------------------------------------------------------

KINDS = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "string_type": "text",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "date_type": "a date (ISO 8601, e.g. 2026-05-31)",
    "date_parsing": "a date (ISO 8601, e.g. 2026-05-31)",
    "date_from_datetime_inexact": "a date (ISO 8601, e.g. 2026-05-31)",
    "datetime_type": "a date and time (ISO 8601, e.g. 2026-05-31T14:00:00Z)",
    "datetime_parsing": "a date and time (ISO 8601, e.g. 2026-05-31T14:00:00Z)",
}
# Parts of an error's location that name a branch of a union (the tags of ``Tag``, GeoJSON geometry types),
# not a member of the body.
BRANCHES = {"one", "many", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def invalid(exc: ValidationError, model: type[BaseModel] | None = None) -> InvalidInput:
    """The first error of a validation as a 422 naming its property (and how many more there are)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    *inner, last = first["loc"] or ("",)
    loc = [p for p in inner if not (isinstance(p, str) and p in BRANCHES)] + [last]
    if first["type"] != "extra_forbidden" and isinstance(last, str) and last in BRANCHES:
        loc.pop()
    path = _path(loc)
    message = _message(first, path)
    if first["type"] == "extra_forbidden" and model is not None:
        owner = _owner(model, loc[:-1])
        layer = getattr(owner, "__layer__", None)
        if layer:  # the words of layers.edit.parse_feature
            message = f"{layer} has no property {loc[-1]!r}"
        elif owner is not None:
            message += f"; it takes {', '.join(owner.model_fields)}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    names = [p for p in loc if isinstance(p, str) and p and p != "properties"]
    return InvalidInput(message, names[0] if names else None)


def _owner(model: type[BaseModel], loc: list[Any]) -> type[BaseModel] | None:
    """The model holding the member at ``loc`` (followed through model-typed fields only)."""
    owner: Any = model
    for part in loc:
        field = owner.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        kinds = [field.annotation, *getattr(field.annotation, "__args__", ())]
        owner = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)
        if owner is None:
            return None
    return owner if isinstance(owner, type) and issubclass(owner, BaseModel) else None


def _path(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "properties" or out:  # a feature's properties are named by themselves
            out += f".{part}" if out else str(part)
    return out


def _message(error: dict[str, Any], path: str) -> str:
    kind, value = error["type"], error.get("input")
    where = path or "the body"
    if kind == "missing":
        return f"{where}: a value is required"
    if kind == "extra_forbidden":
        return f"{where}: there is no such member here"
    if kind in KINDS:
        return f"{where} must be {KINDS[kind]}, not {_json_type(value)}"
    if kind == "string_too_long":
        return f"{where}: at most {error['ctx']['max_length']:,} characters"
    if kind == "too_long":
        return f"{where}: at most {error['ctx']['max_length']:,} items"
    if kind == "literal_error":
        return f"{where}: {_shown(value)} is not one of: {error['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        return f"{where}: {_shown(value)} is not a valid name"
    if kind == "union_tag_invalid":
        return f"{where}: {_shown(error['ctx']['tag'])} is not one of: {error['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return f"{where}: say which {error['ctx']['discriminator']}"
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"


def _json_type(value: Any) -> str:
    return json_type(value) if not isinstance(value, int | float) or isinstance(value, bool) else f"{value!r}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


# --- problems as responses --------------------------------------------------------------------------


class Problem(BaseModel):
    """RFC 9457 problem details, the one error format of the API."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    property: str | None = Field(default=None, description="The property (field) the problem is about")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` documenting error statuses as problem details (application/problem+json)."""
    schema = inline(Problem.model_json_schema(mode="serialization"))
    words = {400: "Bad request", 404: "Not found", 409: "Conflict", 412: "Changed by someone else since the ETag",
             413: "Too large", 415: "Wrong media type", 422: "The data is not valid"}  # fmt: skip
    return {s: {"description": words.get(s, "Error"), "content": {"application/problem+json": {"schema": schema}}}
            for s in statuses}  # fmt: skip


Text = Annotated[str, Field(max_length=MAX_TEXT)]
