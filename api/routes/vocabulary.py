"""``/vocabularies``: the value lists of the catalogue's layers, with the entries the office added, translated or
retired (``layers/vocabulary.py``). Anyone may read them (they label the data); administrators of every
neighbourhood change them."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from api.auth import permit
from api.deps import get_actor, get_catalogue, get_conn, metadata
from api.schemas import problems
from core.db import attributed
from core.errors import NotFound
from core.i18n import LANGUAGES
from layers import vocabulary
from layers.catalogue import Catalogue
from layers.spec import Layer

router = APIRouter(tags=["value lists"])

Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Cat = Annotated[Catalogue, Depends(get_catalogue)]
ValuePath = Annotated[
    str, Path(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="The stored value: lower-case letters, digits and _")
]
NamePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,62}$", max_length=63)]


class EntryIn(BaseModel):
    """An entry's labels (by language, merged with those it has), colour and retirement; a new entry needs an
    English label."""

    model_config = ConfigDict(extra="forbid")
    label: dict[str, Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, description='Text per language code, e.g. {"en": "Traffic signs", "fa": "تابلوهای راهنمایی"}'
    )
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] | None = Field(None, description="e.g. #1e88e5")
    retired: StrictBool | None = Field(None, description="Retired: kept on the rows that have it, not offered")

    @field_validator("label")
    @classmethod
    def _languages(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        unknown = sorted(set(value or {}) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"labels are in {', '.join(LANGUAGES)}; not in {', '.join(unknown)}")
        return value


def _list(layer: Layer, attribute: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    a = vocabulary.value_list(layer, attribute)
    return {
        "layer": layer.name,
        "attribute": a.name,
        "label": a.label,
        "multiple": a.type == "choices",
        "fixed": a.fixed,  # entries translated only, never added or retired
        "entries": [_entry(r) for r in rows if r["layer"] == layer.name and r["attribute"] == a.name],
    }


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("value", "label", "color", "retired", "origin", "updated_at", "updated_by")
    return {k: row[k].isoformat() if k == "updated_at" else row[k] for k in keys}


def _core(catalogue: Catalogue, name: str) -> Layer:
    layer = catalogue[name]
    if layer.kind == "custom":  # a custom layer's lists are its definition's
        raise NotFound(f"{name} is a custom layer: its value lists are those of its definition")
    return layer


@router.get("/vocabularies", dependencies=[Depends(permit("open"))], summary="Every value list with its entries")
def list_vocabularies(conn: Conn, catalogue: Cat) -> list[dict[str, Any]]:
    rows = vocabulary.entries(conn)
    return [
        _list(layer, a.name, rows)
        for layer in catalogue
        if layer.kind != "custom"
        for a in layer.attributes
        if a.type in vocabulary.LIST_TYPES
    ]


@router.get("/vocabularies/{layer}/{attribute}", dependencies=[Depends(permit("open"))], summary="One value list",
            responses=problems(404))  # fmt: skip
def get_vocabulary(layer: NamePath, attribute: NamePath, conn: Conn, catalogue: Cat) -> dict[str, Any]:
    return _list(_core(catalogue, layer), attribute, vocabulary.entries(conn, layer, attribute))


@router.put("/vocabularies/{layer}/{attribute}/{value}", dependencies=[Depends(permit("admin"))],
            summary="Add an entry to a value list, or translate, recolour, retire or restore it",
            responses=problems(404, 422))  # fmt: skip
def put_entry(
    layer: NamePath, attribute: NamePath, value: ValuePath, body: EntryIn, conn: Conn, catalogue: Cat,
    actor: Annotated[str, Depends(get_actor)], request: Request, response: Response,
) -> dict[str, Any]:  # fmt: skip
    a = vocabulary.value_list(_core(catalogue, layer), attribute)
    with attributed(conn, actor):
        entry, created = vocabulary.put(conn, layer, a.name, value, label=body.label, color=body.color,
                                        retired=body.retired)  # fmt: skip
    metadata(request).invalidate()  # the listener hears it too, but this client's next request must see it
    response.status_code = 201 if created else 200
    return _entry(entry)


@router.delete("/vocabularies/{layer}/{attribute}/{value}", dependencies=[Depends(permit("admin"))],
               status_code=204, summary="Remove an entry no feature uses (retire it otherwise)",
               responses=problems(404, 409))  # fmt: skip
def delete_entry(
    layer: NamePath, attribute: NamePath, value: ValuePath, conn: Conn, catalogue: Cat,
    actor: Annotated[str, Depends(get_actor)], request: Request,
) -> Response:  # fmt: skip
    a = vocabulary.value_list(_core(catalogue, layer), attribute)
    with attributed(conn, actor):
        vocabulary.remove(conn, layer, a.name, value)
    metadata(request).invalidate()
    return Response(status_code=204)
