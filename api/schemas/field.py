"""The request bodies of field mode and the review queue (api/routes/field.py, api/routes/review.py).

A sync batch is checked only for its shape here: each change is checked on its own by ``importers.field_sync``,
so one malformed change is refused with its reason and the others are applied.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas import BIGINT, Model
from api.schemas.planning import LayerName

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
FileName = Annotated[str, Field(min_length=1, max_length=255)]


class SyncIn(Model):
    changes: list[dict[str, Any]] = Field(
        max_length=5000,
        description="The device's queued changes: {uid, op: create|update|delete, layer, id, base_version, "
        "properties, geometry}; at most MAHALLE_FIELD_SYNC_BATCH per request.",
    )


class UploadIn(Model):
    uid: uuid.UUID = Field(description="The device's id for this file (a resent announcement is recognised).")
    filename: FileName
    media_type: Annotated[str, Field(min_length=3, max_length=100)]
    size: Annotated[int, Field(ge=1, le=BIGINT)]
    sha256: Sha256
    layer: LayerName
    feature_uid: uuid.UUID | None = None
    feature_id: Annotated[int, Field(ge=1, le=BIGINT)] | None = None
    role: Literal["photo", "before", "after", "document"] = "photo"
    caption: Annotated[str, Field(max_length=2000)] | None = None


class DecisionIn(Model):
    action: Literal["feature", "intervention", "task", "accept", "reject"]
    layer: LayerName | None = Field(default=None, description="For action 'feature': the layer of the new feature.")
    properties: dict[str, Any] | None = Field(default=None, description="Values of what the observation becomes.")
    geometry: dict[str, Any] | None = Field(default=None, description="Its geometry (default: the observation's).")
    reason: Annotated[str, Field(max_length=2000)] | None = Field(default=None, description="Why it is rejected.")
    note: Annotated[str, Field(max_length=2000)] | None = None


class ResolveIn(Model):
    keep: Literal["field", "server"]
