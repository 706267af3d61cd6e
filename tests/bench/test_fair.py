"""A fair bench (issue 19): RESULTS.md only from a clean commit, the independent limit's own statements answering the
same request as Mahalle, every peer asked the same and said how it was configured.

No timing is asserted here: speed targets live in the benchmark (python -m bench), never in tests.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from starlette.datastructures import QueryParams

from api.ogc.params import item_query
from bench import city, results, run, servers, workload
from core.crs import offered_crs
from core.settings import Settings
from gis.features import query_items, utm_zones
from gis.tiles import tile_attributes
from layers.catalogue import core_catalogue


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A throwaway repository with one commit (not the project's)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "bench").mkdir()
    (repo / "bench" / "RESULTS.md").write_text("old\n")
    (repo / "code.py").write_text("x = 1\n")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "-q", "-m", "first")
    return repo


def test_results_md_is_written_only_from_a_clean_commit(repo: Path, tmp_path: Path) -> None:
    canonical, elsewhere, other = repo / "bench" / "RESULTS.md", tmp_path / "RESULTS-uncommitted.md", tmp_path / "x.md"
    head = _git(repo, "rev-parse", "HEAD")
    clean = results.git_state(repo, ignore=[canonical])
    assert clean == results.GitState(head, ()) and clean.clean
    assert results.destination(canonical, canonical, clean, False, elsewhere) == canonical
    canonical.write_text("a run's results\n")  # the results file a previous run wrote changes no figure
    assert results.git_state(repo, ignore=[canonical]).clean
    assert not results.git_state(repo).clean

    (repo / "code.py").write_text("x = 2\n")
    (repo / "new.py").write_text("y = 1\n")
    dirty = results.git_state(repo, ignore=[canonical])
    assert dirty.commit == head and not dirty.clean
    assert sorted(line[3:] for line in dirty.changes) == ["code.py", "new.py"]
    assert "2 uncommitted change(s)" in dirty.describe() and head in dirty.describe()
    # refused by default: RESULTS.md is left alone, the results go elsewhere
    assert results.destination(canonical, canonical, dirty, False, elsewhere) == elsewhere
    # --allow-dirty writes it, marked; another path asked for is written, marked
    assert results.destination(canonical, canonical, dirty, True, elsewhere) == canonical
    assert results.destination(other, canonical, dirty, False, elsewhere) == other

    res = results.Results()
    res.peers["tipg"] = "tipg 1.6.1, 1 uvicorn worker process, jit = off (source: configuration file)"
    results.write(res, other, {"Mahalle commit": results.machine_info(dirty)["Mahalle commit"]}, dirty)
    text = other.read_text()
    assert text.startswith(f"# Benchmark results\n\n> **{results.UNCOMMITTED}** — {head} with 2 uncommitted")
    assert f"**{results.UNCOMMITTED}**: {head}" in text
    assert "## How each peer was configured\n\n- **tipg**: tipg 1.6.1" in text
    results.write(res, other, {"Mahalle commit": results.machine_info(clean)["Mahalle commit"]}, clean)
    text = other.read_text()
    assert results.UNCOMMITTED not in text and f"{head} (clean)" in text

    later = results.GitState("f" * 40, ())  # HEAD moved during the run: not one commit's figures
    assert not clean.merge(later).clean and "HEAD moved" in clean.merge(later).describe()
    assert not results.git_state(repo.parent).clean  # outside a repository: never clean


def test_the_cli_refuses_by_default_and_takes_allow_dirty(tmp_path: Path) -> None:
    assert run.parse_args([]).allow_dirty is False
    cfg = run.parse_args(["--allow-dirty", "--results", str(tmp_path / "r.md"), "--only", "tiles"])
    assert cfg.allow_dirty and cfg.results == tmp_path / "r.md" and cfg.only == {"tiles"}


@pytest.fixture
def conn(admin_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(admin_db_url, autocommit=True) as c:
        yield c


def test_the_bench_json_agg_answers_mahalles_item_page(conn: psycopg.Connection) -> None:
    city.generate(conn, 2_000, 6)
    city.load_neighbourhoods(conn)
    assert city.fast_load(conn, city.PARCELS) == 2_000
    boxes = workload.item_boxes(workload.extent(conn), 3, random.Random(2))
    settings = Settings()
    for b in boxes:
        (query, params), *_ = workload.limit_items_sql(b)
        assert "ST_AsMVT" not in query and "json_agg" in query
        page = json.loads(conn.execute(query, params).fetchone()[0])
        q = item_query(
            core_catalogue()["parcels"],
            QueryParams(f"limit={workload.PAGE}&bbox={workload.bbox_text(b)}"),
            offered_crs(utm_zones(conn)),
            settings.default_items,
            settings.max_items,
        )
        body, matched, returned = query_items(conn, q)
        mine = json.loads(f"[{body}]")
        assert page["numberMatched"] == matched > 0
        assert [f["id"] for f in page["features"]] == [f["id"] for f in mine] and len(mine) == returned
        assert page["features"][0]["properties"] == mine[0]["properties"]
        assert page["features"][0]["geometry"] == mine[0]["geometry"]


def test_tipg_is_asked_like_mahalle_and_every_peer_says_how_it_was_configured() -> None:
    low, detail = workload.Tile(12, 2000, 1500), workload.Tile(14, 8000, 6000)
    asked = parse_qs(urlsplit(workload.tipg_tile(low)).query)
    assert float(asked["simplify"][0]) == pytest.approx(workload.pixel_degrees(12), rel=1e-6)
    assert workload.pixel_degrees(12) == pytest.approx(360 / 4096 / 4096)
    assert "simplify" not in workload.tipg_tile(detail)
    assert asked["properties"][0].split(",") == tile_attributes(core_catalogue()["parcels"], 12)
    (query, params), *_ = workload.limit_tile_sql(low)
    assert "ST_Simplify" in query and params["margin"] == 64 / 4096
    assert "ST_Simplify" not in workload.limit_tile_sql(detail)[0][0]
    assert servers.mahalle_pool() == {"MAHALLE_POOL_MIN_SIZE": "1", "MAHALLE_POOL_MAX_SIZE": "10"}
    jit = {peer: "off (source: configuration file)" for peer in ("mahalle", "tipg", "pygeoapi", "raw")}
    lines = servers.describe(2, 4, jit)
    assert set(lines) == {"mahalle", "tipg", "pygeoapi", "raw"}
    for peer, line in lines.items():
        assert "jit = off (source: configuration file)" in line, peer
    assert all("2 uvicorn worker processes" in lines[p] for p in ("mahalle", "tipg", "pygeoapi"))
    assert "1–10 connections per worker" in lines["mahalle"] and "1–10 connections per worker" in lines["tipg"]
    assert "one connection per client (4)" in lines["raw"]
    notes = run.tile_asks(12)
    assert "simplify=" in notes["tipg"] and "64-px buffer" in notes[run.RAW_MVT]
