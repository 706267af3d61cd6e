"""Named groups of neighbourhoods (a municipality, a programme's cities): what reports and indicators roll up over.

The tables are migration 0010's (``layers/sql/groups_coverage.sql``): everyone reads them, only administrators of
every neighbourhood write them (a trigger refuses others with 42501, for QGIS logins too). Members are read
through ``public.neighbourhoods``, so row-level security shows each user only the members they may read.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.errors import InvalidInput, NotFound

KINDS = ("municipality", "programme", "other")

_SELECT = """
SELECT g.code, g.name, g.kind,
       coalesce((SELECT array_agg(n.code ORDER BY n.code) FROM public.neighbourhood_group_members m
                   JOIN public.neighbourhoods n ON n.id = m.neighbourhood_id WHERE m.group_code = g.code),
                '{}') AS neighbourhoods,
       g.created_at, g.created_by
  FROM public.neighbourhood_groups g
"""


def list_groups(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_SELECT + " ORDER BY g.code").fetchall()


def get_group(conn: psycopg.Connection, code: str) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE g.code = %s", (code,)).fetchone()
    if row is None:
        raise NotFound(f"There is no group of neighbourhoods with code {code!r}.")
    return row


def put_group(conn: psycopg.Connection, code: str, name: str, kind: str, members: list[str]) -> bool:
    """Create or replace the group ``code`` with exactly ``members`` (neighbourhood codes); True if it is new.
    Run it inside ``core.db.attributed``: the group and its members change together or not at all."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}", "kind")
    members = list(dict.fromkeys(members))
    known = conn.execute(
        "SELECT coalesce(array_agg(code), '{}') FROM public.neighbourhoods WHERE code = ANY(%s)", (members,)
    ).fetchone()[0]
    unknown = [c for c in members if c not in known]
    if unknown:
        raise InvalidInput(f"there is no neighbourhood with code {', '.join(map(repr, unknown))}", "neighbourhoods")
    created = conn.execute(
        "INSERT INTO public.neighbourhood_groups AS g (code, name, kind) VALUES (%s, %s, %s) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind RETURNING (xmax = 0)",
        (code, name, kind),
    ).fetchone()[0]
    conn.execute("DELETE FROM public.neighbourhood_group_members WHERE group_code = %s", (code,))
    conn.execute(
        "INSERT INTO public.neighbourhood_group_members (group_code, neighbourhood_id) "
        "SELECT %s, id FROM public.neighbourhoods WHERE code = ANY(%s)",
        (code, members),
    )
    return bool(created)


def delete_group(conn: psycopg.Connection, code: str) -> None:
    """Remove the group (its members go with it); NotFound when there is none."""
    if conn.execute("DELETE FROM public.neighbourhood_groups WHERE code = %s", (code,)).rowcount == 0:
        raise NotFound(f"There is no group of neighbourhoods with code {code!r}.")


def member_codes(conn: psycopg.Connection, code: str) -> tuple[str, str, list[str]]:
    """The group's name, kind and the codes of its members the user may read; NotFound for an unknown group."""
    group = get_group(conn, code)
    return group["name"], group["kind"], list(group["neighbourhoods"])
