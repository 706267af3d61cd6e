"""The ``endpoints`` part (issue 19): the heavy endpoints and single-feature edits with authentication on.

- **Heavy endpoints**: indicators and the achievement report (JSON) of one neighbourhood and of a roll-up over a
  group of ``ROLLUP`` neighbourhoods (``layers.groups``, ``?group=``), median and p99 against the request time budget
  (``MAHALLE_HEAVY_BUDGET_S``, api/heavy.py), with as many clients as the server runs heavy requests at once
  (``MAHALLE_HEAVY_CONCURRENCY``: more would only wait for a slot). Then the same neighbourhood's indicators with
  its plain boundary and with the same shape given ``DENSE_VERTICES`` vertices, in interleaved rounds (the boundary
  switched before each turn): the ratio of their medians (target ≤ 2×) and whether the answers are the same.
- **With authentication on**: single-feature GET + PATCH (``If-Match``) with 8 clients as a planner holding a role
  in only some of the neighbourhoods (API token; row-level security filters every row), on parcels that planner
  may edit; a parcel outside those neighbourhoods is checked to be hidden (404).

``prepare_heavy``, ``heavy_paths``, ``densify``, ``set_boundary`` and ``prepare_auth`` are the core, run on a tiny
city by tests/bench/test_endpoints.py; ``run`` drives them from the bench (bench/run.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
from psycopg import sql

from api.identity import store
from api.identity.store import Grant
from bench.measure import http_peer, measure
from bench.results import Row, Target, fmt, ratio
from bench.workload import feature_path
from core.db import attributed
from core.settings import Settings
from layers import groups

if TYPE_CHECKING:
    from bench.run import Bench

ROLLUP = 50  # neighbourhoods in the roll-up group
GROUP = "BENCH50"
DENSE_VERTICES = 400_000
SIDE = "bench_endpoints"  # the bench's own schema: the plain and the dense boundary
PERIOD = ("2025-01-01", "2025-12-31")  # the report's period
AUTH_USER = "bench-some"
ACTOR = "bench"


@dataclass
class Heavy:
    """What the heavy scenarios run on: the busiest neighbourhood, the roll-up's members, the dense copy."""

    code: str
    members: list[str]
    vertices: tuple[int, int] = (0, 0)  # the plain and the dense boundary's


def busiest(conn: psycopg.Connection, count: int) -> list[str]:
    """Codes of up to ``count`` neighbourhoods, the ones holding the most parcels first (ties by code)."""
    rows = conn.execute(
        "SELECT n.code FROM public.neighbourhoods n LEFT JOIN public.parcels p ON p.neighbourhood_id = n.id "
        "GROUP BY n.code ORDER BY count(p.id) DESC, n.code LIMIT %s",
        (count,),
    )
    return [code for (code,) in rows]


def prepare_heavy(conn: psycopg.Connection) -> Heavy:
    """The group of the ``ROLLUP`` busiest neighbourhoods (fewer when the city has fewer), made as Mahalle makes
    it (``layers.groups.put_group`` in an attributed transaction). ``conn``: the superuser's, autocommit."""
    members = busiest(conn, ROLLUP)
    if not members:
        raise RuntimeError("the city has no neighbourhood")
    with attributed(conn, ACTOR):
        groups.put_group(conn, GROUP, f"{len(members)} busiest neighbourhoods", "programme", members)
    return Heavy(members[0], members)


def densify(conn: psycopg.Connection, code: str, vertices: int = DENSE_VERTICES) -> tuple[int, int]:
    """Keep neighbourhood ``code``'s boundary as it is ("plain") and the same shape with at least ``vertices``
    vertices ("dense": every edge split in lon/lat by ``ST_Segmentize``, so each new vertex lies on the original
    edge) in the bench's own table, for ``set_boundary`` to switch between. It must be the same neighbourhood, not
    a copy: a neighbourhood's indicators take its features by their ``neighbourhood_id``, and its boundary where
    geometry is asked (its area, the coverage of its residents). Returns the plain and the dense vertex counts."""
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SIDE)))
    table = sql.Identifier(SIDE, "boundary")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} AS SELECT 'plain' AS kind, geom FROM public.neighbourhoods WHERE code = %(code)s "
            "UNION ALL SELECT 'dense', ST_Segmentize(geom, ST_Perimeter(geom) / %(n)s) "
            "FROM public.neighbourhoods WHERE code = %(code)s"
        ).format(table),
        {"code": code, "n": vertices},
    )
    counts = dict(conn.execute(sql.SQL("SELECT kind, ST_NPoints(geom) FROM {}").format(table)).fetchall())
    if set(counts) != {"plain", "dense"}:
        raise RuntimeError(f"there is no neighbourhood {code!r}")
    return counts["plain"], counts["dense"]


def set_boundary(conn: psycopg.Connection, code: str, kind: str) -> None:
    """Give neighbourhood ``code`` its plain or dense boundary (kept by ``densify``). The row triggers are off
    (``session_replication_role = replica``): the shape is the same, so no feature changes neighbourhood, and the
    switch leaves no history or version behind."""
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(
            sql.SQL(
                "UPDATE public.neighbourhoods n SET geom = b.geom FROM {} b WHERE n.code = %s AND b.kind = %s"
            ).format(sql.Identifier(SIDE, "boundary")),
            (code, kind),
        )


def cleanup(conn: psycopg.Connection, code: str | None = None) -> None:
    """Remove the group, give neighbourhood ``code`` back its plain boundary and drop the bench's table, so later
    parts see the city as generated."""
    with attributed(conn, ACTOR):
        if conn.execute("SELECT 1 FROM public.neighbourhood_groups WHERE code = %s", (GROUP,)).fetchone():
            groups.delete_group(conn, GROUP)
    if conn.execute("SELECT to_regclass(%s)", (f"{SIDE}.boundary",)).fetchone()[0] is not None and code:
        set_boundary(conn, code, "plain")
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SIDE)))


def indicators_path(code: str | None = None, group: str | None = None) -> str:
    return f"/indicators?group={group}" if group else f"/indicators?neighbourhood={code}"


def report_path(code: str | None = None, group: str | None = None) -> str:
    scope = f"group={group}" if group else f"neighbourhood={code}"
    return f"/reports/achievement?{scope}&from={PERIOD[0]}&to={PERIOD[1]}&format=json"


def heavy_paths(h: Heavy) -> dict[str, str]:
    """Scenario → path, for the one neighbourhood and the group."""
    k = len(h.members)
    return {
        f"indicators, 1 neighbourhood ({h.code})": indicators_path(h.code),
        f"indicators, roll-up of {k} neighbourhoods (group)": indicators_path(group=GROUP),
        f"report (JSON), 1 neighbourhood ({h.code})": report_path(h.code),
        f"report (JSON), roll-up of {k} neighbourhoods (group)": report_path(group=GROUP),
    }


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """An indicators answer without its scope's area (see ``differences``)."""
    scope = {k: v for k, v in body.get("scope", {}).items() if k != "area_m2"}
    return {**body, "scope": scope}


@dataclass
class Auth:
    headers: dict[str, str]
    granted: list[str]  # the neighbourhoods the planner holds a role in
    fids: list[int]  # parcels in them
    hidden: int | None  # a parcel outside them (row-level security hides it)
    of: int  # neighbourhoods in the city


def prepare_auth(conn: psycopg.Connection, count: int, rng: random.Random) -> Auth:
    """A planner of every other neighbourhood (the busiest among them; never all when there are two or more), not an
    administrator, with an API token; ``count`` parcels they may edit and one they may not see."""
    codes = [c for (c,) in conn.execute("SELECT code FROM public.neighbourhoods ORDER BY code")]
    start = codes.index(busiest(conn, 1)[0]) % 2  # the busiest neighbourhood and every other one from it
    granted = codes[start::2] if len(codes) > 1 else codes
    if conn.execute("SELECT 1 FROM mahalle.users WHERE name = %s", (AUTH_USER,)).fetchone() is None:
        store.add_user(conn, AUTH_USER, [Grant("planner", c) for c in granted])
    headers = {"Authorization": f"Bearer {store.create_token(conn, AUTH_USER, 'make bench (some neighbourhoods)')}"}
    mine = [
        i
        for (i,) in conn.execute(
            "SELECT p.id FROM public.parcels p JOIN public.neighbourhoods n ON n.id = p.neighbourhood_id "
            "WHERE n.code = ANY(%s) ORDER BY p.id",
            (granted,),
        )
    ]
    other = conn.execute(
        "SELECT min(p.id) FROM public.parcels p JOIN public.neighbourhoods n ON n.id = p.neighbourhood_id "
        "WHERE NOT n.code = ANY(%s)",
        (granted,),
    ).fetchone()[0]
    return Auth(headers, granted, sorted(rng.sample(mine, min(count, len(mine)))), other, len(codes))


def hidden_is_hidden(base_url: str, auth: Auth) -> str:
    """Row-level security at work: the planner's GET of a parcel outside their neighbourhoods is a 404, and of
    one inside a 200."""
    inside = httpx.get(base_url + feature_path(auth.fids[0]), headers=auth.headers, timeout=30).status_code
    if auth.hidden is None:
        return f"inside their neighbourhoods: {inside}; no parcel lies outside them"
    outside = httpx.get(base_url + feature_path(auth.hidden), headers=auth.headers, timeout=30).status_code
    return f"GET of a parcel inside their neighbourhoods {inside}, outside {outside}"


# --- the bench's side ---------------------------------------------------------------------------------


def run(b: Bench) -> None:
    """Both halves, each guarded so one failing still lets the other report."""
    b.guard("endpoints: heavy", lambda: heavy(b))
    b.guard("endpoints: with authentication", lambda: authenticated(b))


def heavy(b: Bench) -> None:
    from bench.run import MAIN

    defaults = Settings.model_fields
    budget_s = float(defaults["heavy_budget_s"].default)  # the bench's Mahalle runs without MAHALLE_ variables
    clients = int(defaults["heavy_concurrency"].default)
    base = b.running["mahalle"].base_url
    headers = b.token(MAIN)
    h: Heavy | None = None
    try:
        with b.conn() as conn:
            h = prepare_heavy(conn)
        p99s: list[tuple[str, float | None]] = []
        errors = 0
        for scenario, path in heavy_paths(h).items():
            got = b.load(f"{scenario}, {clients} clients", [http_peer("mahalle", base, [path], headers)], clients)
            st = got["mahalle"].get("request")
            errors += st.errors if st else 1
            p99s.append((scenario, st.p99_ms if st else None))
            if st:
                b.res.rows.append(Row.from_stats(f"{scenario}, {clients} clients", "mahalle", st, note=f"GET {path}"))
        over = [s for s, v in p99s if v is None or v > budget_s * 1000]
        k = len(h.members)
        size = f"roll-up of {k}" + ("" if k >= ROLLUP else f" (the city has only {k}: {ROLLUP} not measured)")
        b.res.targets.append(
            Target(
                "heavy endpoints",
                f"indicators and report, 1 neighbourhood and a {ROLLUP}-neighbourhood roll-up, {clients} clients "
                f"(MAHALLE_HEAVY_CONCURRENCY): p99 within the request budget ({budget_s:g} s, "
                "MAHALLE_HEAVY_BUDGET_S), no error",
                "; ".join(f"{s} p99 {fmt(v, 1)} ms" for s, v in p99s) + f"; {size}; {errors} errors",
                None if k < ROLLUP else (not over and errors == 0),
            )
        )
        dense_boundary(b, h, base, headers, clients)
    finally:
        with b.conn() as conn:
            cleanup(conn, h.code if h else None)


def dense_boundary(b: Bench, h: Heavy, base: str, headers: dict[str, str], clients: int) -> None:
    """The same neighbourhood's indicators with its plain boundary and with the dense one, in interleaved rounds
    (the boundary switched before each peer's turn)."""
    with b.conn() as conn:
        h.vertices = densify(conn, h.code)
    path = indicators_path(h.code)

    def switch(peer: str, _round: int = 0) -> None:
        with b.conn() as conn:
            set_boundary(conn, h.code, peer.split()[0])

    answers = {}
    for kind in ("plain", "dense"):
        switch(kind)
        answers[kind] = answer(base, headers, path)
    differ = differences(answers["plain"], answers["dense"])
    same = "yes" if not differ else "no, differs in " + ", ".join(differ)
    scenario = f"indicators, {h.code}: plain vs {h.vertices[1]:,}-vertex boundary, {clients} clients"
    peers = [http_peer("plain boundary", base, [path], headers), http_peer("dense boundary", base, [path], headers)]
    b.say(f"{scenario}: {', '.join(p.name for p in peers)}")
    got = measure(peers, clients, b.cfg.duration, b.cfg.rounds, b.cfg.warmup, on_round=switch)
    switch("plain")
    p, d = (got[n].get("request") for n in ("plain boundary", "dense boundary"))
    notes = {
        "plain boundary": f"GET {path}, {h.vertices[0]:,} vertices",
        "dense boundary": f"GET {path}, {h.vertices[1]:,} vertices, the same shape (ST_Segmentize); the same "
        f"answer as the plain: {same}",
    }
    for name, st in (("plain boundary", p), ("dense boundary", d)):
        if st is not None:
            b.res.rows.append(Row.from_stats(scenario, name, st, note=notes[name]))
    slower = ratio(d.median_ms, p.median_ms) if p and d else None
    b.res.targets.append(
        Target(
            f"{DENSE_VERTICES:,}-vertex boundary",
            "indicators median ≤ 2× the same neighbourhood's with its plain boundary, the same answer",
            f"{fmt(slower, 2)}× ({h.vertices[1]:,} vs {h.vertices[0]:,} vertices); same answer: {same}",
            None if slower is None else (slower <= 2.0 and not differ),
        )
    )


def answer(base: str, headers: dict[str, str], path: str) -> tuple[int, Any]:
    got = httpx.get(base + path, headers=headers, timeout=600)
    return got.status_code, got.json() if got.status_code == 200 else got.text


def differences(one: tuple[int, Any], other: tuple[int, Any]) -> list[str]:
    """The sections in which two indicator answers (status, body) differ; [] when the same. The scope's area is
    left out: the geodesic area of a lon/lat edge split in many pieces is not the area of the unsplit edge."""
    if not one[0] == other[0] == 200:
        return [f"status {one[0]} vs {other[0]}"]
    a, z = comparable(one[1]), comparable(other[1])
    return sorted(k for k in a.keys() | z.keys() if a.get(k) != z.get(k))


def authenticated(b: Bench) -> None:
    clients = b.cfg.edit_clients
    with b.conn() as conn:
        auth = prepare_auth(conn, clients * 32, random.Random(b.cfg.seed + 4))
    n = len(auth.granted)
    rls = hidden_is_hidden(b.running["mahalle"].base_url, auth)
    who = f"a planner of {n} of the {auth.of} neighbourhoods (row-level security filters)"
    before = len(b.res.targets)
    b.edits_as(who, auth.fids, auth.headers)
    for r in (r for r in b.res.rows if r.scenario.endswith(f"({who})")):
        r.note = "; ".join(x for x in (r.note, rls) if x)
    for t in b.res.targets[before:]:
        t.name = "with authentication on: " + t.name
        t.measured = f"{t.measured}; {rls}"
        if t.met and not rls.endswith("404"):
            t.met = False
