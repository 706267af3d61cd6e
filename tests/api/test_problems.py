"""HTTP lives in api/ alone: errors carry meaning and data, ``api.problems.PROBLEMS`` turns them into answers.

Every error class of the project is answered on purpose (its own entry, or a parent's other than the catch-all
400 of ``MahalleError``); none carries a status, a title or headers; the answers keep their statuses, titles
and headers; If-Match is parsed by one dependency.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import problems
from api.app import create_app
from api.deps import IfMatch, etag
from api.heavy import RETRY_BUSY_S, RETRY_OVER_BUDGET_S, Busy, OverBudget
from api.problems import PROBLEMS, problem_for, problem_of, status_of
from api.runtime import Database
from core.errors import (
    Conflict,
    HasDependents,
    InvalidInput,
    MahalleError,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    RuleViolation,
    TransitionNotAllowed,
    rule_of,
)
from core.settings import Settings
from layers.catalogue import UnknownLayer
from layers.spec import SpecError
from tests.auth import ADMIN_HEADERS

PACKAGES = ("core", "layers", "gis", "importers", "api")
SKIP = ("layers.migrations",)  # Alembic's env and revisions run only inside Alembic


def import_everything() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not module.name.startswith(SKIP):
                importlib.import_module(module.name)


def subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def project_errors() -> list[type[MahalleError]]:
    import_everything()
    found = {cls for cls in subclasses(MahalleError) if cls.__module__.split(".")[0] in PACKAGES}
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def test_the_walk_finds_errors_wherever_they_are_defined():
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in project_errors()}
    assert {"core.limits.TooManyVertices", "gis.cql2.FilterError", "importers.archive.ArchiveTooLarge",
            "api.ogc.media.NotAcceptable", "api.security.BodyTooLarge"} <= names  # fmt: skip


def test_every_error_class_is_answered_on_purpose():
    catch_all = PROBLEMS[MahalleError]
    unanswered = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in project_errors()
        if cls not in PROBLEMS and problem_of(cls) in (None, catch_all)
    ]
    assert unanswered == [], "add these to api.problems.PROBLEMS"


def test_errors_carry_no_http():
    carrying = [
        f"{klass.__module__}.{klass.__qualname__}.{name}"
        for cls in project_errors()
        for klass in cls.__mro__
        if issubclass(klass, MahalleError)
        for name in ("status", "title", "headers")
        if name in vars(klass)
    ]
    assert carrying == []


def test_every_key_of_the_map_has_a_handler():
    handled = (MahalleError, UnknownLayer, SpecError)  # what problems.install registers
    assert all(issubclass(cls, handled) for cls in PROBLEMS)


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        (MahalleError("x"), 400, "Bad request"),
        (NotFound("x"), 404, "Not found"),
        (InvalidInput("x", "name"), 422, "The data is not valid"),
        (PayloadTooLarge("x"), 413, "Request too large"),
        (Conflict("x"), 409, "Conflict"),
        (HasDependents("x"), 409, "Other records depend on this one"),
        (UnknownLayer("trees"), 404, "Not found"),
        (SpecError("x"), 422, "The layer definition is not valid"),
    ],
)
def test_statuses_and_titles(error, status, title):
    body = problem_for(error).body
    assert (
        status_of(error) == status and f'"title":"{title}"'.encode() in body and f'"status":{status}'.encode() in body
    )


def test_a_subclass_is_answered_as_its_parent():
    class Other(HasDependents):
        pass

    assert problem_of(Other) is PROBLEMS[HasDependents]
    assert status_of(Other("x")) == 409
    assert status_of(KeyError("not ours")) == 500  # the app's catch-all answers it


def test_a_stale_version_answers_the_current_etag():
    stale = problem_for(PreconditionFailed("streets feature 3 is at version 4, not 2", current_version=4))
    assert stale.status_code == 412 and stale.headers["ETag"] == '"4"' == etag(4)
    gone = problem_for(PreconditionFailed("streets feature 3 does not exist (any more)"))
    assert gone.status_code == 412 and "etag" not in gone.headers


def test_busy_and_over_budget_say_when_to_try_again():
    assert problem_for(Busy("busy")).headers["Retry-After"] == str(RETRY_BUSY_S)
    assert problem_for(Busy("busy", retry_after=9)).headers["Retry-After"] == "9"
    over = problem_for(OverBudget("too long"))
    assert over.status_code == 503 and over.headers["Retry-After"] == str(RETRY_OVER_BUDGET_S)


def test_a_refused_transition_lists_the_allowed_next_states():
    refused = problem_for(TransitionNotAllowed("no", "proposed", "in_progress", ["approved", "cancelled"]))
    assert refused.status_code == 409
    assert b'"property":"status","current":"proposed","allowed":["approved","cancelled"]' in refused.body


def test_a_broken_rule_names_the_rule_and_its_parameters():
    params = {"layer": "parcels", "attribute": "tenure", "value": "x", "allowed": ["informal", "public"]}
    error = RuleViolation("parcels new feature: tenure 'x' is not one of: informal, public", "tenure", "23514",
                          rule="not_in_list", params=params)  # fmt: skip
    body = json.loads(problem_for(error).body)
    assert body["status"] == 422 and body["property"] == "tenure"
    assert (body["rule"], body["params"]) == ("not_in_list", params)
    assert body["detail"].startswith("parcels new feature: tenure 'x'")  # the English sentence stays
    plain = json.loads(problem_for(RuleViolation("parcels: a rule of the layer", "tenure")).body)
    assert plain["property"] == "tenure" and "rule" not in plain and "params" not in plain


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ('{"rule": "required", "params": {"attribute": "title"}}', ("required", {"attribute": "title"})),
        ('{"rule": "check"}', ("check", {})),
        (None, (None, None)),
        ("", (None, None)),
        ("Key (uid)=(1) already exists.", (None, None)),  # PostgreSQL's own details are not ours
        ("{not json", (None, None)),
        ('{"code": 3}', (None, None)),
        ('{"rule": 3, "params": {}}', (None, None)),
    ],
)
def test_only_our_json_detail_is_a_rule(detail, expected):
    assert rule_of(detail) == expected


@pytest.fixture
def app_client(db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, load_demo=False)
    with TestClient(create_app(settings, database=Database(db_url)), headers=ADMIN_HEADERS) as c:
        yield c


@pytest.mark.parametrize(
    ("properties", "rule", "params"),
    [
        ({"kind": "scrap", "status": "asleep"}, "not_in_list", {"attribute": "status", "value": "asleep"}),
        ({"kind": "scrap", "name": "x" * 201}, "too_long", {"attribute": "name", "max_length": 200}),
        (
            {"kind": "scrap", "polluting": False, "pollutants": ["smoke"]},
            "check",
            {"check": "pollutants_need_polluting"},
        ),
    ],
)
def test_the_api_answers_a_broken_rule_with_its_code(app_client, properties, rule, params):
    point = {"type": "Point", "coordinates": [24.94, 60.17]}
    feature = {"type": "Feature", "geometry": point, "properties": properties}
    response = app_client.post(
        "/ogc/collections/workshops/items", json=feature, headers={"Content-Type": "application/geo+json"}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["rule"] == rule and body["params"]["layer"] == "workshops", body
    assert {k: body["params"][k] for k in params} == params
    assert body["detail"]


@pytest.fixture(scope="module")
def if_match_client() -> Iterator[TestClient]:
    app = FastAPI()
    problems.install(app)

    @app.delete("/things/{tid}")
    def delete(tid: int, expected: IfMatch) -> dict[str, object]:
        return {"expected": expected}

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("*", "*"), (' "3" ', 3), ('"0"', 0), ("7", 7)],
)
def test_if_match_names_a_version(if_match_client, header, expected):
    response = if_match_client.delete("/things/1", headers={"If-Match": header} if header is not None else {})
    assert response.status_code == 200 and response.json() == {"expected": expected}


@pytest.mark.parametrize("header", ['W/"3"', "W/3", '"abc"', '"-1"', '"3", "4"', '"²"', '"' + "9" * 40 + '"', ""])
def test_a_weak_or_foreign_if_match_never_matches(if_match_client, header):
    response = if_match_client.delete("/things/1", headers={"If-Match": header.encode("latin-1")})
    assert response.status_code == 412, response.text
    assert response.headers["content-type"] == "application/problem+json" and "etag" not in response.headers
    if header.startswith("W/"):
        assert "weak" in response.json()["detail"]
