"""The request bodies of the planning API (api/routes/planning.py).

The properties of interventions and tasks are derived from the catalogue (``layers/interventions.py``,
``layers/tasks.py``): each attribute's type, value list, range and length become the model's, so the OpenAPI
document says what a form would. The models check the shape; the database still checks the rules (required
values across fields, lifecycle moves, targets in the same neighbourhood) in the planner's words.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BeforeValidator, Discriminator, Field, RootModel, Tag, create_model

from api.schemas import BIGINT, MAX_TEXT, Model, Text
from api.schemas.geojson import Area, Geometry
from layers import planning
from layers.spec import NAME_RE, SYSTEM_PROPERTIES, WRITABLE_SYSTEM, Attribute, Layer

JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")
MAX_TARGETS = 1_000  # features one request may add as targets
INT4 = 2**31 - 1  # catalogue "integer" attributes are PostgreSQL integer

Id = Annotated[int, Field(ge=1, le=BIGINT, strict=True)]
LayerName = Annotated[str, Field(min_length=2, max_length=48, pattern=NAME_RE.pattern, strict=True)]


def _iso_text(value: Any) -> Any:
    """Dates travel as ISO 8601 text, never as numbers (which pydantic would read as timestamps)."""
    if not isinstance(value, str | date):
        raise ValueError(f"must be ISO 8601 text, e.g. 2026-05-31, not {type(value).__name__}")
    return value


Day = Annotated[date, BeforeValidator(_iso_text)]
# The last day whose end a Python datetime can hold (reports and indicators read "the end of that day").
LAST_DAY = date(9999, 12, 30)
UntilDay = Annotated[Day, Field(le=LAST_DAY)]
Instant = Annotated[datetime, BeforeValidator(_iso_text)]


# --- paths and queries --------------------------------------------------------------------------------

IdPath = Annotated[int, Path(ge=1, le=BIGINT, description="Id (a whole number)")]
LayerPath = Annotated[str, Path(min_length=2, max_length=48, pattern=NAME_RE.pattern, description="Layer name")]
_CODE = {"max_length": 40, "pattern": r"^[^\x00]*$", "description": "Neighbourhood code, e.g. HKI-CENTRE"}
NeighbourhoodCode = Annotated[str, Query(**_CODE)]
AnyNeighbourhood = Annotated[str | None, Query(**_CODE)]  # left out (or empty): every neighbourhood
AsOfDay = Annotated[date | None, Query(le=LAST_DAY, description="Date (YYYY-MM-DD): the state at the end of that day")]
LastDay = Annotated[date, Query(alias="to", le=LAST_DAY, description="Last day (YYYY-MM-DD)")]


def choice_of(layer: Layer, name: str) -> Any:
    """A value of a value-list attribute: the office changes the lists at run time (``/vocabularies``), so the
    database decides whether it is one (and says which are); the catalogue's entries are the examples."""
    a = layer.attribute(name)
    if a.fixed:  # a lifecycle: the list never changes, so it is checked here (an enum in OpenAPI)
        return Literal[tuple(a.values)]  # type: ignore[valid-type]
    return Annotated[
        str,
        Field(
            max_length=63,
            pattern=r"^[a-z][a-z0-9_]{0,62}$",
            strict=True,
            examples=list(a.values),
            description=f"An entry of the value list (GET /vocabularies/{layer.name}/{name})",
        ),
    ]


# --- properties from the catalogue -------------------------------------------------------------------


def attribute_type(a: Attribute) -> Any:
    """The pydantic type of an attribute's value (without null)."""
    bounds = {k: v for k, v in (("ge", a.minimum), ("le", a.maximum)) if v is not None}
    if a.type == "text":
        return Annotated[str, Field(max_length=a.max_length or MAX_TEXT, strict=True)]
    if a.type == "choice" and a.fixed:
        return Literal[tuple(a.values)]  # type: ignore[valid-type]
    if a.type == "choice":  # the lists change at run time: the database checks the value (choice_of)
        return Annotated[str, Field(max_length=63, strict=True, examples=list(a.values))]
    if a.type == "choices":
        return Annotated[list[Annotated[str, Field(max_length=63, strict=True)]], Field(max_length=100)]
    if a.type == "integer":
        return Annotated[int, Field(strict=True, **{"ge": -INT4 - 1, "le": INT4, **bounds})]
    if a.type == "reference":
        return Id
    if a.type == "number":
        return Annotated[float, Field(strict=True, **bounds)]
    if a.type == "boolean":
        return Annotated[bool, Field(strict=True)]
    if a.type == "date":
        return Day
    if a.type == "datetime":
        return Instant
    raise ValueError(f"no request type for attribute type {a.type}")  # a new type needs a line here


SYSTEM_TYPES = {
    "neighbourhood_id": Annotated[Id, Field(description="Set from the location when left out")],
    "uid": Annotated[str, Field(max_length=64, strict=True, json_schema_extra={"format": "uuid"},
                                description="A client-made UUID: the same one again returns the same feature")],
    "source": Annotated[str, Field(max_length=200, strict=True)],
    "source_id": Annotated[str, Field(max_length=200, strict=True)],
}  # fmt: skip


def properties_model(layer: Layer, name: str, *, patch: bool) -> type[Model]:
    """The properties a write of ``layer`` takes. Creating, a required attribute without a default must be
    given; patching, every property is optional and ``null`` clears it. The read-only system properties a
    client got with the feature (version, updated_at …) may be sent back and are ignored."""
    fields: dict[str, Any] = {}
    for a in layer.attributes:
        kind = attribute_type(a)
        title = a.label.get("en")
        if a.required and a.default is None and not patch:
            fields[a.name] = (kind, Field(title=title))
        else:
            fields[a.name] = (kind | None, Field(default=None, title=title))
    for system in WRITABLE_SYSTEM:
        if system != "neighbourhood_id" or layer.neighbourhood_scoped:
            fields[system] = (SYSTEM_TYPES[system] | None, None)
    for system in SYSTEM_PROPERTIES:
        if system not in WRITABLE_SYSTEM:
            fields[system] = (Any, Field(default=None, description="Read-only: ignored",
                                         json_schema_extra={"readOnly": True}))  # fmt: skip
    model = create_model(name, __base__=Model, __doc__=f"Properties of {layer.name} ({name})", **fields)
    model.__layer__ = layer.name  # names the layer in errors (api.schemas.invalid)
    return model


INTERVENTIONS, TASKS = planning.INTERVENTIONS, planning.TASKS
InterventionProperties = properties_model(INTERVENTIONS, "InterventionProperties", patch=False)
InterventionChanges = properties_model(INTERVENTIONS, "InterventionChanges", patch=True)
TaskIn = properties_model(TASKS, "TaskIn", patch=False)
TaskChanges = properties_model(TASKS, "TaskChanges", patch=True)


# --- targets and links --------------------------------------------------------------------------------


class TargetIn(Model):
    """A feature an intervention acts on (or a task is linked to)."""

    layer: LayerName
    feature_id: Id

    def target(self) -> planning.Target:
        return planning.Target(self.layer, self.feature_id)


Targets = Annotated[list[TargetIn], Field(max_length=MAX_TARGETS)]


class TargetList(Model):
    targets: Targets


def _one_or_many(value: Any) -> str:
    return "many" if isinstance(value, dict) and "targets" in value else "one"


NewTargets = Annotated[
    Annotated[TargetIn, Tag("one")] | Annotated[TargetList, Tag("many")],
    Discriminator(_one_or_many),
]


class TargetsIn(RootModel[NewTargets]):
    """One target ``{layer, feature_id}`` or several: ``{targets: [{layer, feature_id}, …]}``."""

    def target_list(self) -> list[planning.Target]:
        one = self.root
        return [t.target() for t in one.targets] if isinstance(one, TargetList) else [one.target()]


class LinkIn(TargetIn):
    """Link a task to an intervention or any feature; ``weight`` weighs it in the derived progress."""

    weight: Annotated[float, Field(strict=True, ge=0)] | None = None


# --- interventions ------------------------------------------------------------------------------------


class InterventionIn(Model):
    """A new intervention: a GeoJSON Feature, and the features it acts on."""

    type: Literal["Feature"] = "Feature"
    geometry: Geometry
    properties: InterventionProperties  # type: ignore[valid-type]
    targets: Targets = Field(default_factory=list)

    def feature(self) -> dict[str, Any]:
        return {"type": "Feature", **self.data(), "geometry": self.geometry.model_dump(mode="json")}

    def target_list(self) -> list[planning.Target]:
        return [t.target() for t in self.targets]


class InterventionPatch(Model):
    """A JSON merge patch of an intervention: what it names changes (status only by a transition)."""

    type: Literal["Feature"] | None = None
    geometry: Geometry | None = None
    properties: InterventionChanges | None = None  # type: ignore[valid-type]


_TRANSITION = {
    name: (attribute_type(INTERVENTIONS.attribute(name)) | None, None) for name in planning.TRANSITION_FIELDS
}
TransitionIn = create_model(
    "TransitionIn",
    __base__=Model,
    __doc__="Move an intervention to status ``to``, recording what the move needs (e.g. actual_end to complete).",
    to=(choice_of(INTERVENTIONS, "status"), ...),
    **_TRANSITION,
)


# --- tasks, indicators --------------------------------------------------------------------------------


class TaskUpdateIn(Model):
    """A note in a task's log; a status or progress given with it is applied to the task."""

    note: Annotated[Text, Field(min_length=1, strict=True)]
    status: choice_of(TASKS, "status") | None = None  # type: ignore[valid-type]
    progress: attribute_type(TASKS.attribute("progress")) | None = None  # type: ignore[valid-type]


class TargetSet(Model):
    """How many outputs of the path's kind the task plans (``target`` > 0), and in what unit."""

    target: Annotated[float, Field(strict=True, gt=0, le=1e15)]
    unit: Annotated[str, Field(max_length=planning.OUTPUTS.attribute("unit").max_length, strict=True)] | None = None


class IndicatorsIn(Model):
    """The indicators of a drawn area, now or at the end of a day."""

    geometry: Area
    as_of: UntilDay | None = None


# --- query values -------------------------------------------------------------------------------------

InterventionStatus = choice_of(INTERVENTIONS, "status")
InterventionKind = choice_of(INTERVENTIONS, "kind")
TaskStatus = choice_of(TASKS, "status")
TaskDomain = choice_of(TASKS, "domain")
OutputKindPath = Annotated[choice_of(planning.OUTPUTS, "kind"), Path(description="Kind of output, e.g. people_reached")]
