"""The layer catalogue: core layers declared in Python plus custom layers stored in the database.

Everything that needs to know what a layer holds (API, forms, importers, exports, docs) asks here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

from layers import (
    assets,
    blighted_plots,
    interventions,
    needs,
    neighbourhoods,
    observations,
    outputs,
    parcels,
    referrals,
    service_points,
    streets,
    tasks,
    visits,
    vocabulary,
    workshops,
)
from layers.spec import Layer

log = logging.getLogger("mahalle.layers")

# Order matters: a layer comes after the layers it refers to.
CORE_LAYERS: tuple[Layer, ...] = (
    neighbourhoods.LAYER,
    parcels.LAYER,
    streets.LAYER,
    blighted_plots.LAYER,
    workshops.LAYER,
    service_points.LAYER,
    interventions.LAYER,
    assets.LAYER,
    observations.LAYER,
    tasks.LAYER,
    visits.LAYER,
    referrals.LAYER,
    needs.LAYER,
    outputs.LAYER,
)


class UnknownLayer(KeyError):
    def __str__(self) -> str:
        return f"There is no layer named {self.args[0]!r}."


@dataclass
class Catalogue:
    layers: dict[str, Layer] = field(default_factory=dict)
    public: frozenset[str] = frozenset()  # layers anyone may read, logged in or not (mahalle.layer_registry.public)

    def __getitem__(self, name: str) -> Layer:
        try:
            return self.layers[name]
        except KeyError:
            raise UnknownLayer(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self.layers

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers.values())

    def spatial(self) -> list[Layer]:
        return [layer for layer in self if layer.has_geometry]

    def to_json(self) -> list[dict[str, Any]]:
        return [layer.to_json() for layer in self]


def core_catalogue() -> Catalogue:
    return Catalogue({layer.name: layer for layer in CORE_LAYERS})


def load_catalogue(conn: psycopg.Connection) -> Catalogue:
    """Core layers plus the custom layers registered in this database, with the database's value lists."""
    cat = core_catalogue()
    rows = conn.execute(
        "SELECT spec FROM mahalle.layer_registry WHERE kind = 'custom' ORDER BY created_at, name"
    ).fetchall()
    for (spec,) in rows:
        try:
            layer = Layer.from_json(spec)
        except (KeyError, TypeError, ValueError) as exc:  # one unreadable definition must not take every layer down
            log.error("custom layer %r has a definition the catalogue cannot read (%s); it is left out", spec, exc)
            continue
        cat.layers[layer.name] = layer
    # (through to_jsonb: before migration 0007 the column does not exist, and every layer was open to all)
    public = conn.execute(
        "SELECT name FROM mahalle.layer_registry r WHERE coalesce((to_jsonb(r)->>'public')::boolean, true)"
    ).fetchall()
    cat.public = frozenset(name for (name,) in public)
    vocabulary.apply(cat.layers, conn)  # the value lists as the office keeps them
    return cat
