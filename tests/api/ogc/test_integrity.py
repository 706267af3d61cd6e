"""Integrity through the OGC API on a copy of the demo database: linked features are 409 to delete, no-op writes
keep the ETag, read-only properties that differ are 400, weak If-Match is 412, concurrent POSTs of one uid make
one feature, a restore onto a reused uid is 409."""

from __future__ import annotations

import threading
import uuid

import httpx

from tests.auth import ADMIN_HEADERS

GEOJSON = {"Content-Type": "application/geo+json"}
PATCH = {"Content-Type": "application/merge-patch+json"}
WELL = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.9412345, 60.1712345]},
        "properties": {"kind": "scrap", "name": "Yard", "polluting": True, "pollutants": ["smoke"]}}  # fmt: skip


def observation(uid: str, note: str = "Rubble on the corner") -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.945, 60.17]},
            "properties": {"uid": uid, "category": "waste", "captured_at": "2026-11-20T10:15:00Z",
                           "note": note}}  # fmt: skip


def workshop(client) -> tuple[str, dict]:
    created = client.post("/ogc/collections/workshops/items", json=WELL, headers=GEOJSON)
    assert created.status_code == 201, created.text
    return created.headers["Location"].rsplit("/", 1)[1], created.json()


def versions(conn, layer: str, fid: int | str) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT operation, version FROM mahalle.history WHERE layer = %s AND feature_id = %s ORDER BY id",
        (layer, int(fid)),
    ).fetchall()


def test_deleting_a_targeted_street_is_a_409_naming_the_intervention(client, demo_conn):
    sid, iid, title = demo_conn.execute(
        "SELECT t.feature_id, i.id, i.title FROM intervention_targets t "
        "JOIN interventions i ON i.id = t.intervention_id WHERE t.layer = 'streets' ORDER BY t.feature_id, i.id LIMIT 1"
    ).fetchone()
    refused = client.delete(f"/ogc/collections/streets/items/{sid}")
    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert problem["title"] == "Other records depend on this one"
    assert problem["detail"].startswith(f"streets feature {sid} cannot be deleted: intervention {iid} '{title}'")
    assert problem["detail"].endswith("Remove those links first.")
    assert client.get(f"/ogc/collections/streets/items/{sid}").status_code == 200


def test_an_intervention_a_task_links_needs_cascade_and_keeps_the_link_in_the_history(client, demo_conn):
    iid, tid = demo_conn.execute(
        "SELECT l.feature_id, l.task_id FROM task_links l WHERE l.layer = 'interventions' "
        "AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.intervention_id = l.feature_id) ORDER BY 1 LIMIT 1"
    ).fetchone()
    refused = client.delete(f"/interventions/{iid}")
    assert refused.status_code == 409 and f"task {tid} '" in refused.json()["detail"]
    assert client.delete(f"/interventions/{iid}?cascade=true").status_code == 204
    gone = demo_conn.execute(
        "SELECT count(*) FROM mahalle.history WHERE layer = 'task_links' AND operation = 'DELETE' "
        "AND (before->>'feature_id')::bigint = %s AND before->>'layer' = 'interventions'",
        (iid,),
    ).fetchone()[0]
    assert gone >= 1


def test_a_feature_of_a_custom_layer_is_guarded_too(client, demo_conn):
    definition = {"name": "water_points", "title": "Water points", "geometry_type": "Point",
                  "attributes": [{"name": "state", "type": "choice", "choices": ["working", "broken"]}]}  # fmt: skip
    assert client.post("/layers", json=definition).status_code == 201
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.944, 60.168]},
             "properties": {"state": "broken"}}  # fmt: skip
    created = client.post("/ogc/collections/water_points/items", json=point, headers=GEOJSON)
    fid = int(created.headers["Location"].rsplit("/", 1)[1])
    tid = demo_conn.execute("SELECT min(id) FROM tasks").fetchone()[0]
    linked = client.post(f"/tasks/{tid}/links", json={"layer": "water_points", "feature_id": fid})
    assert linked.status_code == 201, linked.text
    refused = client.delete(f"/ogc/collections/water_points/items/{fid}")
    assert refused.status_code == 409 and f"task {tid} '" in refused.json()["detail"]


def test_a_write_that_changes_nothing_keeps_the_etag_and_writes_no_history(client, demo_conn):
    fid, feature = workshop(client)
    url = f"/ogc/collections/workshops/items/{fid}"
    same = client.patch(url, json={"properties": {"name": "Yard"}}, headers={**PATCH, "If-Match": '"1"'})
    assert same.status_code == 200 and same.headers["ETag"] == '"1"'
    empty = client.patch(url, json={}, headers={**PATCH, "If-Match": '"1"'})
    assert empty.status_code == 200 and empty.headers["ETag"] == '"1"'
    got = client.get(url).json()  # every property, read-only ones included, sent back unchanged
    put = client.put(url, json={"type": "Feature", "geometry": got["geometry"], "properties": got["properties"]},
                     headers={**GEOJSON, "If-Match": '"1"'})  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.headers["ETag"] == '"1"' and put.json()["properties"]["updated_at"] == got["properties"]["updated_at"]
    assert versions(demo_conn, "workshops", fid) == [("INSERT", 1)]
    changed = client.patch(url, json={"properties": {"name": "Metal yard"}}, headers={**PATCH, "If-Match": '"1"'})
    assert changed.headers["ETag"] == '"2"'
    assert versions(demo_conn, "workshops", fid) == [("INSERT", 1), ("UPDATE", 2)]


def test_read_only_properties_that_differ_are_a_400_naming_them(client, demo_conn):
    fid, _ = workshop(client)
    url = f"/ogc/collections/workshops/items/{fid}"
    body = {"properties": {"name": "Renamed", "version": 7, "created_by": "me"}}
    refused = client.patch(url, json=body, headers=PATCH)
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("version, created_by are kept by the database and cannot be changed")
    uid = client.patch(url, json={"properties": {"uid": str(uuid.uuid4())}}, headers=PATCH)
    assert uid.status_code == 400 and uid.json()["property"] == "uid"
    own_id = client.patch(url, json={"properties": {"id": int(fid) + 1}}, headers=PATCH)
    assert own_id.status_code == 400 and own_id.json()["property"] == "id"
    put = client.put(url, json={**WELL, "properties": {**WELL["properties"], "updated_at": "2001-01-01T00:00:00Z"}},
                     headers=GEOJSON)  # fmt: skip
    assert put.status_code == 400 and put.json()["property"] == "updated_at"
    assert client.get(url).json()["properties"]["name"] == "Yard"
    assert versions(demo_conn, "workshops", fid) == [("INSERT", 1)]
    stale = client.patch(url, json=body, headers={**PATCH, "If-Match": '"5"'})
    assert stale.status_code == 412  # a stale If-Match is the first thing to hear about


def test_a_weak_if_match_never_matches(client, demo_conn):
    fid, _ = workshop(client)
    url = f"/ogc/collections/workshops/items/{fid}"
    weak = client.patch(url, json={"properties": {"name": "Weak"}}, headers={**PATCH, "If-Match": 'W/"1"'})
    assert weak.status_code == 412 and "weak" in weak.json()["detail"]
    assert client.delete(url, headers={"If-Match": 'W/"1"'}).status_code == 412
    assert versions(demo_conn, "workshops", fid) == [("INSERT", 1)]


def test_concurrent_posts_of_one_uid_make_one_feature(live_server, demo_conn):
    uid, n = str(uuid.uuid4()), 6
    start = threading.Barrier(n)
    responses: list[httpx.Response] = []

    def post() -> None:
        with httpx.Client(base_url=live_server, timeout=30, headers=ADMIN_HEADERS) as http:
            start.wait()
            responses.append(http.post("/ogc/collections/observations/items", json=observation(uid), headers=GEOJSON))

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in responses) == [200] * (n - 1) + [201], [r.text for r in responses]
    assert len({r.headers["Location"] for r in responses}) == 1
    assert {r.json()["properties"]["uid"] for r in responses} == {uid}
    assert demo_conn.execute("SELECT count(*) FROM observations WHERE uid = %s", (uid,)).fetchone()[0] == 1

    with httpx.Client(base_url=live_server, timeout=30, headers=ADMIN_HEADERS) as http:
        other = http.post("/ogc/collections/observations/items", json=observation(uid, "Cleared"), headers=GEOJSON)
    assert other.status_code == 409 and "other values for note" in other.json()["detail"]


def test_a_restore_onto_a_reused_uid_is_a_409(client, demo_conn):
    uid = str(uuid.uuid4())
    first = client.post("/ogc/collections/observations/items", json=observation(uid), headers=GEOJSON)
    fid = first.headers["Location"].rsplit("/", 1)[1]
    assert client.delete(f"/ogc/collections/observations/items/{fid}").status_code == 204
    again = client.post("/ogc/collections/observations/items", json=observation(uid), headers=GEOJSON)
    assert again.status_code == 201 and again.headers["Location"] != first.headers["Location"]
    restore = client.post(f"/api/history/observations/{fid}/restore")
    assert restore.status_code == 409
    assert f"its uid {uid} now belongs to observations feature" in restore.json()["detail"]
