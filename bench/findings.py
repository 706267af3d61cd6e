"""Profiles of missed targets, written into RESULTS.md: py-spy against the Mahalle process, EXPLAIN (ANALYZE,
BUFFERS) of the slow statement, auto_explain (trigger times) of an import; each with what would close the gap."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench import profile, transfer
from bench.city import SCHEMA
from bench.cluster import BenchCluster
from bench.measure import Peer, edit_peer, http_peer, measure
from bench.results import Finding, Results, fmt
from bench.servers import Server

PROFILE_SECONDS = 8.0
FIXED_SECONDS = 4.0


@dataclass
class Findings:
    bc: BenchCluster
    url: str
    work: Path
    res: Results
    pending: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    _fixed: str | None = None

    def later(self, name: str, job: Callable[[], None]) -> None:
        """Profile after every measurement is done, so profiling never disturbs a measured peer."""
        self.pending.append((name, job))

    def add(self, title: str, text: str, *blocks: str) -> None:
        self.res.findings.append(Finding(title, text, [b for b in blocks if b]))

    def _sample(self, server: Server, name: str, load: Callable[[], Any]) -> str:
        raw = self.work / f"pyspy-{name}.txt"
        spy = profile.pyspy_attach(server.pid, PROFILE_SECONDS, raw)
        time.sleep(0.5)
        load()
        spy.wait(60)
        return profile.summarise(raw)

    def http(
        self,
        title: str,
        server: Server,
        paths: Sequence[str],
        statements: list[list[tuple[str, Any]]],
        concurrency: int,
        ratios: dict[str, float | None],
        headers: dict[str, str],
        fixed_peers: Sequence[Peer] = (),
    ) -> None:
        """Why a missed HTTP target missed, profiled as the measured user (``headers``: their API token)."""
        slug = re.sub(r"\W+", "-", title.lower())
        peer = http_peer("mahalle", server.base_url, paths, headers)
        spy = self._sample(server, slug, lambda: measure([peer], concurrency, PROFILE_SECONDS, 1, 0.0))
        with psycopg.connect(self.url, autocommit=True) as conn:
            plan = profile.explain(conn, statements[0])
            variants = tile_variants(conn, statements) if fixed_peers else ""
        said = ", ".join(f"{k} {fmt(v, 2)}×" for k, v in ratios.items())
        fixed = self.fixed_cost(fixed_peers) if fixed_peers else ""
        self.add(
            f"{title}: missed ({said})",
            " ".join([HTTP_TEXT.format(what=title.lower()), fixed, wait_share(spy), *plan_notes(plan)]),
            "py-spy, Mahalle server under the same load:\n" + spy,
            "EXPLAIN (ANALYZE, BUFFERS) of the first request's statements:\n" + plan,
            variants,
        )

    def fixed_cost(self, peers: Sequence[Peer]) -> str:
        """Median latency of an empty tile, one client at a time: what each peer spends per request on top of
        the query itself (measured once, reused by every tile finding)."""
        if self._fixed is None:
            got = measure(peers, 1, FIXED_SECONDS, 1, 1.0)
            medians = {name: st["request"].median_ms for name, st in got.items() if "request" in st}
            self._fixed = (
                "An empty tile (no feature near it), one client at a time, takes "
                + ", ".join(f"{fmt(ms, 2)} ms in {name}" for name, ms in medians.items())
                + ": the fixed cost of a request on each path."
            )
        return self._fixed

    def growth(
        self,
        scenario: str,
        paths: Sequence[str],
        sized: dict[int, Server],
        urls: dict[int, str],
        statements: Callable[[psycopg.Connection], list[tuple[str, Any]]],
        ratios: dict[str, float | None],
        headers: dict[int, dict[str, str]],
    ) -> None:
        sizes = sorted(sized)
        blocks, plans = [], []
        for n in (sizes[0], sizes[-1]):
            server = sized[n]
            peer = http_peer("m", server.base_url, paths, headers[n])
            load = lambda p=peer: measure([p], 4, PROFILE_SECONDS, 1, 0.0)  # noqa: E731
            blocks.append(f"py-spy at {n:,} parcels ({scenario}):\n{self._sample(server, f'growth-{n}', load)}")
            with psycopg.connect(urls[n], autocommit=True) as conn:
                plans.append(profile.explain(conn, statements(conn)))
                blocks.append(f"EXPLAIN (ANALYZE, BUFFERS) at {n:,} parcels, first request:\n{plans[-1]}")
        said = ", ".join(f"{k} {fmt(v, 2)}×" for k, v in ratios.items())
        notes = plan_notes(plans[-1])
        self.add(f"Cost growth: missed ({said})", " ".join([GROWTH_TEXT.format(scenario=scenario), *notes]), *blocks)

    def edits(self, server: Server, fids: Sequence[int], clients: int, headers: dict[str, str]) -> None:
        """Why single-feature edits missed, profiled as the measured user (``headers``: their API token)."""
        peer = edit_peer("m", server.base_url, "parcels", fids, headers)
        spy = self._sample(server, "edits", lambda: measure([peer], clients, PROFILE_SECONDS, 1, 0.0))
        alone = measure([peer], 1, FIXED_SECONDS, 1, 0.5)["m"]
        update = [("UPDATE public.parcels SET note = 'profile' WHERE id = %s", (fids[0],))]
        with psycopg.connect(self.url) as conn:  # rolled back: the history keeps only the measured edits
            profile.explain(conn, update)  # the first run compiles the trigger functions of this session
            plan = profile.explain(conn, update)
            conn.rollback()
        single = ", ".join(f"{label} median {fmt(st.median_ms, 2)} ms" for label, st in alone.items())
        triggers = ", ".join(f"{n} {t:,.2f} ms" for n, t, _ in trigger_times(plan))
        text = EDIT_TEXT.format(clients=clients, single=single, triggers=triggers or "none logged")
        self.add(
            "Single feature GET/PATCH: missed",
            text,
            "py-spy, Mahalle server under the same load:\n" + spy,
            "EXPLAIN (ANALYZE, BUFFERS) of the PATCH's UPDATE (rolled back):\n" + plan,
        )

    def transfer(self, db: str, n: int, floor: str) -> None:
        """Import ``n`` parcels into ``db`` under py-spy and auto_explain."""
        small = self.work / f"profile-{n}.gpkg"
        small.unlink(missing_ok=True)
        args = [
            "ogr2ogr",
            "-f",
            "GPKG",
            str(small),
            self.bc.ogr("bench_main"),
            f"{SCHEMA}.parcels",
            "-nln",
            "parcels",
            "-where",
            f"fid <= {n}",
            "-preserve_fid",
            "-lco",
            "FID=fid",
            "-lco",
            "GEOMETRY_NAME=geom",
        ]
        subprocess.run(args, check=True, capture_output=True)
        log = self.bc.cluster.log_file
        since = log.stat().st_size if log.exists() else 0
        raw = self.work / "pyspy-import.txt"
        # auto_explain is loaded per session, which only a superuser may ask for: this profiling run alone connects
        # as the superuser, and says so.
        env = {"PGOPTIONS": profile.auto_explain_options(), "MAHALLE_ALLOW_SUPERUSER": "true"}
        imp = transfer.mahalle_import(self.bc.url(db), small, "parcels", self.work, profile.pyspy_wrap(raw), env)
        plan = profile.logged_plans(log, since)
        self.add(
            f"Import: missed — profile of importing {n:,} parcels ({imp.seconds:,.1f} s with profilers on)",
            " ".join([_upsert_share(plan, imp.seconds, n), floor, IMPORT_TEXT]),
            "py-spy, the `mahalle import` process:\n" + profile.summarise(raw),
            "auto_explain of the upsert (ANALYZE, with trigger times):\n" + plan,
        )

    def export(self, box: tuple[float, float, float, float], n: int) -> None:
        """Export the parcels in ``box`` (about ``n``) from the benchmark's database under py-spy."""
        raw, out = self.work / "pyspy-export.txt", self.work / "profile-export.gpkg"
        exp = transfer.mahalle_export(self.url, out, "parcels", self.work, profile.pyspy_wrap(raw), box)
        parts = profile.shares(raw, EXPORT_PARTS)
        where = ", ".join(f"{label} {pct:.0f} %" for label, pct in parts.items())
        with psycopg.connect(self.url, autocommit=True) as conn:
            query = export_query_cost(conn, box)
        self.add(
            f"Export: missed — profile of exporting about {n:,} parcels ({exp.seconds:,.1f} s with py-spy on)",
            " ".join(
                [
                    f"Where the exporting process spends its time (share of py-spy's busy samples): {where}.",
                    write_cost(out),
                    query,
                    EXPORT_TEXT,
                ]
            ),
            "py-spy, the `mahalle export` process:\n" + profile.summarise(raw),
        )


def write_cost(path: Path, most: int = 100_000) -> str:
    """Writing the same rows to a GeoPackage with one pyogrio call, and in the exporter's appends."""
    import os
    import warnings

    import pyogrio.raw

    from gis.export import BATCH

    meta, _, geoms, fields = pyogrio.raw.read(path, layer="parcels", max_features=most, return_fids=True)
    names, out = list(meta["fields"]), path.with_name("write-test.gpkg")
    times = []
    for batch in (len(geoms), BATCH):
        out.unlink(missing_ok=True)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for i in range(0, len(geoms), batch):
                pyogrio.raw.write(
                    out,
                    geoms[i : i + batch],
                    [f[i : i + batch] for f in fields],
                    names,
                    layer="parcels",
                    driver="GPKG",
                    geometry_type="MultiPolygon",
                    crs="EPSG:4326",
                    append=i > 0,
                    promote_to_multi=True,
                )
        times.append(time.perf_counter() - started)
    os.remove(out)
    return (
        f"Writing {len(geoms):,} of these rows to a GeoPackage takes {times[0]:,.1f} s in one pyogrio call and "
        f"{times[1]:,.1f} s in {BATCH:,}-row appends, the way the exporter writes."
    )


def _execution_ms(conn: psycopg.Connection, text: str) -> float:
    rows = conn.execute("EXPLAIN (ANALYZE, TIMING OFF) " + text).fetchall()
    return float(re.search(r"Execution Time: ([\d.]+) ms", rows[-1][0]).group(1))  # type: ignore[union-attr]


def export_query_cost(conn: psycopg.Connection, box: tuple[float, float, float, float] | None = None) -> str:
    """The export query's time in PostgreSQL as it is, and with only the WKB a GeoPackage needs."""
    from gis.export import ExportOptions, _query  # the query the exporter runs (a private helper: guarded)
    from layers.catalogue import load_catalogue

    try:
        layer = load_catalogue(conn)["parcels"]
        query, params = _query(conn, layer, ExportOptions(format="gpkg", layers=["parcels"], bbox=box))
        text = psycopg.ClientCursor(conn).mogrify(query, params)
    except Exception as exc:  # another branch of work may reshape the exporter
        return f"(the export query could not be rebuilt: {exc})"
    lean = re.sub(r"ST_AsGeoJSON\(.*?, 15\), ST_AsText\(t\.geom, 15\), ", "", text)
    full = _execution_ms(conn, text)
    if lean == text:
        return f"The export query takes {full / 1000:,.1f} s in PostgreSQL."
    wkb_only = _execution_ms(conn, lean)
    return (
        f"The export query takes {full / 1000:,.1f} s in PostgreSQL as it is and {wkb_only / 1000:,.1f} s "
        "without the GeoJSON and WKT columns (EXPLAIN ANALYZE, same rows)."
    )


def _no_order(text: str) -> str:
    return re.sub(r"ORDER BY t\.id\s+(?=LIMIT)", "", text, count=1)


def _no_simplify(text: str) -> str:
    return re.sub(r"ST_Simplify\((ST_Transform\(t\.geom, 3857\)), [^,]+, true\)", r"\1", text, count=1)


# (label, jit, change). Mahalle runs with jit = off: the bench cluster's setting for every peer (bench/cluster.py)
# and its own pool's per connection (core/db.py); jit = on (PostgreSQL's default) is shown for comparison only.
TILE_VARIANTS: tuple[tuple[str, bool, Callable[[str], str]], ...] = (
    ("as Mahalle runs it (jit = off, as every peer)", False, lambda q: q),
    ("jit = on (PostgreSQL's default; no peer runs with it)", True, lambda q: q),
    ("no ORDER BY t.id before the LIMIT", False, _no_order),
    ("no ST_Simplify below z14", False, _no_simplify),
    ("neither", False, lambda q: _no_simplify(_no_order(q))),
)


def tile_variants(conn: psycopg.Connection, statements: list[list[tuple[str, Any]]], most: int = 6) -> str:
    """Up to ``most`` tiles of the list (spread over it), their queries' summed execution time as they are and
    with each suggested change (EXPLAIN ANALYZE, after one warm-up pass)."""
    step = max(1, len(statements) // most)
    texts = [psycopg.ClientCursor(conn).mogrify(*stmts[0]) for stmts in statements[::step][:most]]
    lines = [f"{len(texts)} tiles of the list, summed execution time as they are and changed (EXPLAIN ANALYZE):"]
    for text in texts:  # warm the cache the way the load did
        _execution_ms(conn, text)
    for label, jit, change in TILE_VARIANTS:
        variants = [change(t) for t in texts]
        if variants == texts and label not in (TILE_VARIANTS[0][0], TILE_VARIANTS[1][0]):
            continue  # the change does not apply to this zoom
        conn.execute("SET jit = on" if jit else "SET jit = off")
        ms = sum(_execution_ms(conn, v) for v in variants)
        lines.append(f"  {ms:10,.1f} ms  {label}")
    conn.execute("RESET jit")  # back to the cluster's value
    return "\n".join(lines)


def trigger_times(plan: str) -> list[tuple[str, float, int]]:
    """(trigger, ms, calls) from an EXPLAIN ANALYZE, slowest first."""
    found = re.findall(r"Trigger (?:for constraint )?([^:]+): time=([\d.]+) calls=(\d+)", plan)
    return sorted(((n, float(t), int(c)) for n, t, c in found), key=lambda x: -x[1])


def _upsert_share(plan: str, total: float, rows: int) -> str:
    """The upsert's share of the import and each trigger's cost per imported row, from the logged plans (row
    triggers run once a row, the statement-level history triggers once a statement: both are divided by rows)."""
    durations = [float(ms) for ms in re.findall(r"duration: ([\d.]+) ms", plan)]
    if not durations:
        return "The upsert's plan was not logged."
    ms = max(durations)  # the upsert; the neighbourhood lookup and the checks are logged too, and shorter
    triggers = trigger_times(plan)
    spent = sum(t for _, t, _ in triggers)
    text = f"The set-based upsert took {ms / 1000:,.1f} s of the {total:,.1f} s"
    if triggers and rows:
        each = ", ".join(f"{n} {1000 * t / rows:,.0f} µs" for n, t, _ in triggers)
        text += f"; its triggers {spent / 1000:,.1f} s of that ({100 * spent / ms:.0f} %) — per row: {each}"
    return text + "."


def wait_share(summary: str) -> str:
    """How much of the server's busy time is waiting on PostgreSQL, from a py-spy summary."""
    match = re.search(r"([\d.]+) %\s+Connection\.wait \(psycopg/connection\.py\)", summary.split("self (leaf")[-1])
    if not match:
        return ""
    return (
        f"{match.group(1)} % of the server's busy samples wait on PostgreSQL (psycopg's Connection.wait); "
        "the rest is Python in the server process."
    )


def plan_notes(plan: str) -> list[str]:
    """What stands out in a plan: the primary key walked instead of the GiST index, JIT, sequential scans."""
    notes = []
    if re.search(r"Index Scan using \w*pkey on parcels[^\n]*\n\s+Filter: \(geom &&", plan):
        notes.append(PKEY_NOTE)
    jit, run = re.search(r"JIT:.*?Total ([\d.]+) ms", plan, re.S), re.search(r"Execution Time: ([\d.]+) ms", plan)
    if jit and run:
        notes.append(JIT_NOTE.format(jit=float(jit.group(1)), run=float(run.group(1))))
    if "Seq Scan on parcels" in plan:
        notes.append("The plan reads the whole parcels table (Seq Scan).")
    return notes


HTTP_TEXT = "Where the time of {what} goes, from the profile and the plan below."
PKEY_NOTE = (
    "The plan walks the primary key in id order and filters each row by the tile envelope (Index Scan using "
    "parcels_pkey … Filter: geom && …) instead of asking the GiST index: the `ORDER BY t.id LIMIT max+1` that "
    "detects truncation makes an ordered index the cheapest-looking way to a LIMIT, so every tile reads the rows "
    "in id order until the limit, whatever the tile's size."
)
JIT_NOTE = (
    "JIT compilation took {jit:,.0f} ms of the statement's {run:,.0f} ms: JIT was on for this statement (the bench "
    "cluster sets jit = off for every peer, so something turned it on), the planner's cost estimate is above "
    "jit_above_cost, and the compiled code is thrown away after one tile."
)
GROWTH_TEXT = (
    "The same {scenario} requests, with the same answers, got slower on the bigger table. The profiles at the "
    "smallest and the largest size show which part grew."
)
EDIT_TEXT = (
    "With one client at a time: {single}; the UPDATE's row triggers: {triggers}. Against the p99 under {clients} "
    "clients this separates the cost of one request from queueing on the machine's two cores, which the server "
    "process, PostgreSQL and the load generator share."
)
IMPORT_TEXT = (
    "The rest is the `mahalle import` process itself (Python start-up, reading the GeoPackage, converting and "
    "checking each column, the binary COPY into the staging table: the py-spy profile) and the statements over the "
    "staging table (neighbourhoods, validation, plausibility). Already set-based: the validation and plausibility "
    "rules (one statement each over the staged rows; the row triggers skip the rows of that checked load, "
    "migration 0016), the stamps and the neighbourhood of new rows (written by the upsert itself, their triggers "
    "skip them, migration 0018), history (statement-level triggers over the transition tables), staging (typed "
    "binary COPY, batch by batch, each batch's neighbourhoods looked up while the next is read on the other core), "
    "conversion (column by column); a first import into an empty layer builds its plain indexes (the GiST one "
    "among them) after the rows. What is left per row is the price of what ogr2ogr does not do — geodesic area, "
    "the CHECKs, history, the neighbourhood's foreign key, the unique keys (uid, source id), the WHEN of five row "
    "triggers comparing the load's setting — see the floor above."
)
EXPORT_PARTS = {
    "GDAL writing (pyogrio.write_arrow)": r"^write_arrow \(pyogrio/",
    "Arrow record batches (gis/export/arrow.py record_batch)": r"^record_batch\b.*gis/export/arrow\.py",
    "reading the server-side cursor (psycopg)": r"\(psycopg/",
    "Python start-up (imports)": r"^_find_and_load ",
}
EXPORT_TEXT = (
    "How the exporter works now: the query returns WKB only for GDAL formats and PostgreSQL formats the "
    "timestamps; each batch becomes an Arrow record batch streamed into one open GDAL dataset "
    "(`pyogrio.write_arrow`). What could still narrow a gap: larger batches (fewer Arrow conversions), reading "
    "the rows as Arrow directly (binary COPY) instead of Python tuples, and a faster start-up."
)
