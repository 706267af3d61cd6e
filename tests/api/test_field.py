"""Field mode's API on a copy of the demo: the package, the sync (idempotent, conflict-aware, item by item),
photos in resumable pieces with EXIF and thumbnails, and what the field worker learns back."""

from __future__ import annotations

import hashlib
import io
import random
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.identity.store import Grant
from api.runtime import Database
from core.settings import Settings
from importers.demo import CODE
from tests.auth import ADMIN_HEADERS, token_for


@pytest.fixture
def db(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def app(demo_db_url: str, tmp_path):
    settings = Settings(database_url=demo_db_url, load_demo=False, data_dir=tmp_path, max_photo_mb=2)
    return create_app(settings, database=Database(demo_db_url))


@pytest.fixture
def field(app, db) -> Iterator[TestClient]:
    """Samira, a field worker in the demo neighbourhood."""
    with TestClient(app, headers=token_for(db, "samira", Grant("field", CODE))) as c:
        yield c


@pytest.fixture
def admin(app) -> Iterator[TestClient]:
    with TestClient(app, headers=ADMIN_HEADERS) as c:
        yield c


def point_in(db: psycopg.Connection) -> dict[str, Any]:
    lon, lat = db.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM neighbourhoods WHERE code = %s) x", [CODE]
    ).fetchone()
    return {"type": "Point", "coordinates": [lon, lat]}


def observation(db: psycopg.Connection, note: str = "Broken light at the corner") -> dict[str, Any]:
    return {
        "uid": str(uuid.uuid4()),
        "op": "create",
        "layer": "observations",
        "properties": {"category": "lighting_fault", "note": note, "captured_at": "2026-11-30T10:00:00Z",
                       "accuracy_m": 6},
        "geometry": point_in(db),
    }  # fmt: skip


def sync(client: TestClient, *changes: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post("/field/sync", json={"changes": list(changes)})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def jpeg(gps: tuple[float, float] | None = None, size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.frombytes("RGB", size, random.Random(size[0]).randbytes(size[0] * size[1] * 3))  # noise: no tiny file
    exif = Image.Exif()
    if gps:
        lon, lat = gps
        exif[0x8825] = {1: "N", 2: (abs(lat), 0.0, 0.0), 3: "E", 4: (abs(lon), 0.0, 0.0)}
        exif[0x0132] = "2026:11:29 09:15:00"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_package_lists_sizes_and_holds_only_the_neighbourhood(field, db):
    listing = field.get("/field/neighbourhoods").json()
    hood = next(n for n in listing["neighbourhoods"] if n["code"] == CODE)
    assert hood["bytes"] > 0 and {"parcels", "streets"} <= {x["name"] for x in hood["layers"]}
    assert listing["max_accuracy_m"] > 0
    package = field.get("/field/extract", params={"neighbourhood": CODE}).json()
    parcels = package["layers"]["parcels"]["features"]
    count = db.execute("SELECT count(*) FROM parcels p JOIN neighbourhoods n ON n.id = p.neighbourhood_id "
                       "WHERE n.code = %s", [CODE]).fetchone()[0]  # fmt: skip
    assert len(parcels) == count
    assert {"uid", "version"} <= set(parcels[0]["properties"])
    size = len(field.get("/field/extract", params={"neighbourhood": CODE}).content)
    assert 0.75 < hood["bytes"] / size < 1.33, "the size shown before the download is about what is downloaded"
    assert field.get("/field/extract", params={"neighbourhood": "NOWHERE"}).status_code == 404


def test_a_resent_batch_creates_nothing_twice(field, db):
    first, second = observation(db), observation(db, "Dumped rubble")
    results = sync(field, first, second)
    assert [r["status"] for r in results] == ["applied", "applied"]
    again = sync(field, first, second)
    assert [r["status"] for r in again] == ["already", "already"]
    assert [r["id"] for r in again] == [r["id"] for r in results]
    assert db.execute("SELECT count(*) FROM observations WHERE uid = ANY(%s)",
                      [[uuid.UUID(first["uid"]), uuid.UUID(second["uid"])]]).fetchone()[0] == 2  # fmt: skip
    row = db.execute("SELECT observer, review_status, created_by FROM observations WHERE id = %s",
                     [results[0]["id"]]).fetchone()  # fmt: skip
    assert row == ("samira", "new", "samira")


def test_one_bad_change_does_not_stop_the_batch(field, db):
    good = observation(db)
    reused = {**observation(db), "uid": good["uid"]}
    reused["properties"] = {**reused["properties"], "note": "something else"}
    results = sync(
        field,
        good,
        {"uid": str(uuid.uuid4()), "op": "create", "layer": "no_such_layer", "properties": {}},
        {"uid": "not-a-uuid", "op": "create", "layer": "observations"},
        {**observation(db), "properties": {"category": "volcano", "captured_at": "2026-11-30T10:00:00Z"}},
        reused,
        {"uid": str(uuid.uuid4()), "op": "update", "layer": "parcels", "id": 1, "base_version": "x"},
    )
    assert [r["status"] for r in results] == ["applied"] + ["rejected"] * 5
    assert "no_such_layer" in results[1]["message"]
    assert results[2]["property"] == "uid"
    assert results[3]["property"] == "category" and "volcano" in results[3]["message"]
    assert "other content" in results[4]["message"]
    assert results[5]["property"] == "base_version"


def test_field_worker_changes_only_what_the_field_may(field, db):
    sid, version = db.execute("SELECT s.id, s.version FROM service_points s JOIN neighbourhoods n "
                              "ON n.id = s.neighbourhood_id WHERE n.code = %s ORDER BY s.id LIMIT 1",
                              [CODE]).fetchone()  # fmt: skip
    ok, refused = sync(
        field,
        {"uid": str(uuid.uuid4()), "op": "update", "layer": "service_points", "id": sid, "base_version": version,
         "properties": {"status": "closed"}},
        {"uid": str(uuid.uuid4()), "op": "update", "layer": "service_points", "id": sid, "base_version": version + 1,
         "properties": {"name": "Renamed"}},
    )  # fmt: skip
    assert ok["status"] == "applied" and ok["version"] == version + 1
    assert refused["status"] == "rejected" and "only status, opening_hours" in refused["message"], refused
    assert db.execute("SELECT status, version FROM service_points WHERE id = %s", [sid]).fetchone() == (
        "closed", version + 1,
    )  # fmt: skip


def test_an_edit_of_a_feature_changed_meanwhile_is_a_conflict_for_review(field, admin, db):
    sid, version = db.execute("SELECT s.id, s.version FROM service_points s JOIN neighbourhoods n "
                              "ON n.id = s.neighbourhood_id WHERE n.code = %s ORDER BY s.id LIMIT 1",
                              [CODE]).fetchone()  # fmt: skip
    r = admin.patch(f"/ogc/collections/service_points/items/{sid}", json={"properties": {"status": "open"}},
                    headers={"If-Match": f'"{version}"', "Content-Type": "application/merge-patch+json"})  # fmt: skip
    assert r.status_code == 200, r.text
    change = {"uid": str(uuid.uuid4()), "op": "update", "layer": "service_points", "id": sid,
              "base_version": version, "properties": {"status": "closed"}}  # fmt: skip
    (result,) = sync(field, change)
    assert result["status"] == "conflict" and result["server"]["properties"]["status"] == "open"
    assert db.execute("SELECT status FROM service_points WHERE id = %s", [sid]).fetchone()[0] == "open"
    (again,) = sync(field, change)
    assert again["status"] == "conflict" and again["conflict_id"] == result["conflict_id"]
    mine = field.get("/field/mine").json()
    assert [c["id"] for c in mine["changes"]] == [result["conflict_id"]]
    queue = admin.get("/review").json()
    assert [c["id"] for c in queue["conflicts"]] == [result["conflict_id"]]
    assert field.get("/review").status_code == 403, "field workers do not review"
    decided = admin.post(f"/review/conflicts/{result['conflict_id']}", json={"keep": "field"})
    assert decided.status_code == 200, decided.text
    assert db.execute("SELECT status FROM service_points WHERE id = %s", [sid]).fetchone()[0] == "closed"
    assert admin.get("/review").json()["conflicts"] == []
    twice = admin.post(f"/review/conflicts/{result['conflict_id']}", json={"keep": "server"})
    assert twice.status_code in (400, 422) and "not waiting" in twice.text


def test_a_delete_of_a_feature_deleted_meanwhile_is_already_done(field, admin, db):
    (created,) = sync(admin, observation(db))
    fid, version = created["id"], created["version"]
    assert admin.delete(f"/ogc/collections/observations/items/{fid}").status_code == 204
    (result,) = sync(admin, {"uid": str(uuid.uuid4()), "op": "delete", "layer": "observations", "id": fid,
                             "base_version": version})  # fmt: skip
    assert result["status"] == "already"


def upload(client: TestClient, data: bytes, feature_uid: str, *, chunk: int = 4096, **meta: Any):
    uid = str(uuid.uuid4())
    r = client.post("/field/uploads", json={
        "uid": uid, "filename": "photo.jpg", "media_type": "image/jpeg", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "layer": "observations", "feature_uid": feature_uid, **meta,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return uid


def put(client: TestClient, uid: str, data: bytes, start: int, end: int):
    return client.put(f"/field/uploads/{uid}", content=data[start : end + 1],
                      headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"})  # fmt: skip


def test_a_photo_in_pieces_resumes_and_becomes_an_attachment_once(field, db):
    obs = observation(db)
    sync(field, obs)
    lon, lat = obs["geometry"]["coordinates"]
    data = jpeg(gps=(lon, lat), size=(1600, 1200))
    uid = upload(field, data, obs["uid"])
    half = len(data) // 2
    assert put(field, uid, data, 0, half - 1).json()["received"] == half
    # the answer of the next piece was lost: the device asks where to resume, and a piece from elsewhere is 409
    assert field.get(f"/field/uploads/{uid}").json()["received"] == half
    assert put(field, uid, data, half + 10, len(data) - 1).status_code == 409
    done = put(field, uid, data, half, len(data) - 1)
    assert done.status_code == 201, done.text
    attachment = done.json()["attachment"]
    assert attachment["width"] == 1600 and attachment["sha256"] == hashlib.sha256(data).hexdigest()
    assert attachment["exif_position"] == pytest.approx([lon, lat], abs=1e-3)
    assert attachment["captured_at"].startswith("2026-11-29T09:15")
    again = put(field, uid, data, half, len(data) - 1)  # a resent last piece
    assert again.status_code == 200 and again.json()["attachment_id"] == attachment["id"]
    assert db.execute("SELECT count(*) FROM attachments WHERE layer = 'observations' AND feature_id = %s",
                      [attachment["feature_id"]]).fetchone()[0] == 1  # fmt: skip
    thumb = field.get(f"/attachments/{attachment['id']}/thumbnail")
    assert thumb.headers["content-type"] == "image/jpeg" and max(Image.open(io.BytesIO(thumb.content)).size) == 320
    full = field.get(f"/attachments/{attachment['id']}")
    assert full.content == data
    assert db.execute("SELECT path IS NOT NULL FROM attachments WHERE id = %s", [attachment["id"]]).fetchone()[0]


def test_bad_photos_are_refused_with_the_reason(field, db):
    obs = observation(db)
    sync(field, obs)
    text = b"this is not an image at all" * 10
    uid = upload(field, text, obs["uid"])
    r = put(field, uid, text, 0, len(text) - 1)
    assert r.status_code == 422 and "not an image" in r.json()["detail"]
    big = field.post("/field/uploads", json={
        "uid": str(uuid.uuid4()), "filename": "huge.jpg", "media_type": "image/jpeg", "size": 5 * 1024 * 1024,
        "sha256": "0" * 64, "layer": "observations", "feature_uid": obs["uid"],
    })  # fmt: skip
    assert big.status_code == 422 and "at most 2 MB" in big.json()["detail"]
    data = jpeg()
    uid = upload(field, data, obs["uid"])
    damaged = data[:-10] + b"0123456789"
    assert put(field, uid, damaged, 0, len(data) - 1).status_code == 422
    assert field.get(f"/field/uploads/{uid}").json()["received"] == 0, "a damaged file is received again"
    broken_exif = jpeg()[:2] + b"\xff\xe1\x00\x10Exif\x00\x00garbage!" + jpeg()[2:]
    uid = upload(field, broken_exif, obs["uid"])
    r = put(field, uid, broken_exif, 0, len(broken_exif) - 1)
    assert r.status_code == 201 and r.json()["attachment"]["exif_position"] is None, r.text
    orphan = field.post("/field/uploads", json={
        "uid": str(uuid.uuid4()), "filename": "a.jpg", "media_type": "image/jpeg", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "layer": "observations", "feature_uid": str(uuid.uuid4()),
    })  # fmt: skip
    assert orphan.status_code == 404 and "send the feature first" in orphan.json()["detail"]


def test_review_turns_observations_into_work_and_the_field_worker_sees_it(field, admin, db):
    a, b = observation(db, "Pothole"), observation(db, "Nothing there")
    ra, rb = sync(field, a, b)
    data = jpeg()
    uid = upload(field, data, a["uid"])
    assert put(field, uid, data, 0, len(data) - 1).status_code == 201
    queue = admin.get("/review", params={"neighbourhood": CODE}).json()
    waiting = {o["id"]: o for o in queue["observations"]}
    assert {ra["id"], rb["id"]} <= set(waiting) and len(waiting[ra["id"]]["photos"]) == 1
    task = admin.post(f"/review/observations/{ra['id']}", json={"action": "task", "properties": {"priority": "high"}})
    assert task.status_code == 200, task.text
    assert task.json()["became_layer"] == "tasks"
    tid = task.json()["became_id"]
    assert db.execute("SELECT title, priority FROM tasks WHERE id = %s", [tid]).fetchone() == ("Pothole", "high")
    assert db.execute("SELECT count(*) FROM attachments WHERE layer = 'tasks' AND feature_id = %s",
                      [tid]).fetchone()[0] == 1  # fmt: skip
    assert admin.post(f"/review/observations/{rb['id']}", json={"action": "reject"}).status_code == 422
    assert admin.post(f"/review/observations/{rb['id']}", json={"action": "reject", "reason": "Duplicate of #12"}
                      ).status_code == 200  # fmt: skip
    mine = {o["id"]: o for o in field.get("/field/mine").json()["observations"]}
    assert mine[ra["id"]]["review_status"] == "converted" and mine[ra["id"]]["became_kind"] == "task"
    assert mine[rb["id"]]["review_status"] == "rejected" and mine[rb["id"]]["review_note"] == "Duplicate of #12"
    left = {o["id"] for o in admin.get("/review").json()["observations"]}
    assert not {ra["id"], rb["id"]} & left


def test_field_workers_cannot_review_even_from_their_own_login(field, db):
    (created,) = sync(field, observation(db))
    r = field.patch(f"/ogc/collections/observations/items/{created['id']}",
                    json={"properties": {"review_status": "accepted"}},
                    headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    assert r.status_code == 403
    forged = {**observation(db)}
    forged["properties"] = {**forged["properties"], "review_status": "converted"}
    (result,) = sync(field, forged)
    assert result["status"] == "rejected" and "review" in result["message"]


def test_review_as_feature_and_intervention(admin, db):
    a, b = observation(db, "New water point"), observation(db, "Needs lighting")
    ra, rb = sync(admin, a, b)
    feature = admin.post(f"/review/observations/{ra['id']}", json={
        "action": "feature", "layer": "service_points", "properties": {"name": "Water point", "category": "other"},
    })  # fmt: skip
    assert feature.status_code == 200, feature.text
    assert db.execute("SELECT name FROM service_points WHERE id = %s", [feature.json()["became_id"]]).fetchone()[0] == (
        "Water point"
    )
    plan = admin.post(f"/review/observations/{rb['id']}", json={"action": "intervention",
                                                               "properties": {"kind": "lighting"}})  # fmt: skip
    assert plan.status_code == 200, plan.text
    assert db.execute("SELECT status, title FROM interventions WHERE id = %s",
                      [plan.json()["became_id"]]).fetchone() == ("proposed", "Needs lighting")  # fmt: skip
    again = admin.post(f"/review/observations/{rb['id']}", json={"action": "accept"})
    assert again.status_code == 422 and "already reviewed" in again.text


@pytest.fixture
def viewer(app, db) -> Iterator[TestClient]:
    with TestClient(app, headers=token_for(db, "vera", Grant("viewer"))) as c:
        yield c


def test_only_changes_the_user_could_make_are_kept_for_review(viewer, field, db):
    pid, version = db.execute("SELECT id, version FROM parcels ORDER BY id LIMIT 1").fetchone()
    db.execute("UPDATE parcels SET note = 'changed on the server' WHERE id = %s", [pid])
    stale = {"uid": str(uuid.uuid4()), "op": "update", "layer": "parcels", "id": pid, "base_version": version,
             "properties": {"land_use": "vacant"}}  # fmt: skip
    (by_viewer,) = sync(viewer, stale)
    assert by_viewer["status"] == "rejected" and "may not change" in by_viewer["message"], by_viewer
    (by_field,) = sync(field, {**stale, "uid": str(uuid.uuid4())})
    assert by_field["status"] == "rejected" and "field workers change only" not in by_field["message"]
    results = sync(
        viewer,
        {"uid": str(uuid.uuid4()), "op": "delete", "layer": "parcels", "id": 2**40, "base_version": 1},
        {**stale, "uid": str(uuid.uuid4()), "junk": "x"},
        {**stale, "uid": str(uuid.uuid4()), "properties": {"note": "x" * 300_000}},
        {**observation(db), "base_version": {"a": 1}, "id": True},  # ignored on a create: a viewer may not create
    )
    assert [r["status"] for r in results] == ["rejected"] * 4
    assert "no feature" in results[0]["message"] and results[1]["property"] == "junk"
    assert "256 kB" in results[2]["message"] and "observations" in results[3]["message"]
    assert db.execute("SELECT count(*) FROM field_changes").fetchone()[0] == 0, "nothing refused is kept"


def test_a_viewer_stores_no_file_and_a_failed_upload_starts_over(viewer, field, db, app):
    pid = db.execute("SELECT min(id) FROM parcels").fetchone()[0]
    data = jpeg(size=(900, 900))
    r = viewer.post("/attachments", files={"file": ("p.jpg", data, "image/jpeg")},
                    data={"layer": "parcels", "feature_id": str(pid)})  # fmt: skip
    assert r.status_code == 403
    folder = app.state.settings.files_folder
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*")), "a refused photo leaves no file"
    obs = observation(db)
    sync(field, obs)
    html = b"<html><script>alert(1)</script></html>" * 5
    uid = upload(field, html, obs["uid"], media_type="application/pdf", filename="report.pdf")
    r = put(field, uid, html, 0, len(html) - 1)
    assert r.status_code == 422 and "not a PDF" in r.json()["detail"]
    assert field.get(f"/field/uploads/{uid}").json()["received"] == 0, "it starts over, nothing stuck"
    assert not list((folder / "uploads").glob("*.part"))


def test_a_photo_with_too_many_pixels_is_refused_before_it_is_decoded(field, db):
    obs = observation(db)
    sync(field, obs)
    out = io.BytesIO()
    Image.new("1", (9000, 8000)).save(out, "PNG")  # 72 MP in a few kB
    data = out.getvalue()
    uid = upload(field, data, obs["uid"], media_type="image/png", filename="flat.png")
    r = put(field, uid, data, 0, len(data) - 1)
    assert r.status_code == 422 and "9000 × 8000 pixels" in r.json()["detail"]


def test_a_change_id_is_one_change_even_when_sent_twice_at_once(db):
    from core.errors import Conflict
    from layers import field_changes

    uid = uuid.uuid4()
    common = {"uid": uid, "source": "device", "op": "update", "layer": "parcels", "state": "applied"}
    first = field_changes.record(db, payload={"properties": {"a": 1}}, **common)
    assert field_changes.record(db, payload={"properties": {"a": 1}}, **common) == first
    with pytest.raises(Conflict):
        field_changes.record(db, payload={"properties": {"a": 2}}, **common)
