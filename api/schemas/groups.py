"""The request body of ``PUT /neighbourhood-groups/{code}`` (api/routes/groups.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path
from pydantic import Field

from api.schemas import Model

MAX_MEMBERS = 1_000  # neighbourhoods one group may hold

# The code's shape is the table's CHECK (layers/sql/groups_coverage.sql).
GroupCodePath = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", description="Code of the group, e.g. HELSINKI"),
]
NeighbourhoodCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\x00]*$", strict=True)]


class GroupIn(Model):
    """A named group of neighbourhoods: its name, kind and members (neighbourhood codes; they replace the old)."""

    name: Annotated[str, Field(min_length=1, max_length=200, strict=True)]
    kind: Literal["municipality", "programme", "other"] = "programme"
    neighbourhoods: Annotated[list[NeighbourhoodCode], Field(max_length=MAX_MEMBERS)] = []
