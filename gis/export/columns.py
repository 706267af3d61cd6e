"""The columns a layer exports, from the catalogue: id, uid, the neighbourhood's code, every attribute, the
measured area/length, version, last change and the source; each with the SQL that reads it."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from layers.spec import Layer


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # catalogue type
    expr: sql.Composable
    label: dict[str, str]


def columns(layer: Layer) -> list[Column]:
    t = "t"
    out = [
        Column("id", "integer", sql.Identifier(t, "id"), {"en": "Id"}),
        Column("uid", "text", sql.SQL("{}::text").format(sql.Identifier(t, "uid")), {"en": "Unique id"}),
    ]
    if layer.neighbourhood_scoped:
        out.append(Column("neighbourhood", "text", sql.Identifier("n", "code"), {"en": "Neighbourhood"}))
    out += [Column(a.name, a.type, _value(a.name, a.type), a.label) for a in layer.attributes]
    out += [Column(g, "number", sql.Identifier(t, g), {"en": g}) for g in layer.generated_columns]
    out += [
        Column("version", "integer", sql.Identifier(t, "version"), {"en": "Version"}),
        Column("updated_at", "datetime", _value("updated_at", "datetime"), {"en": "Last changed"}),
        Column("updated_by", "text", sql.Identifier(t, "updated_by"), {"en": "Changed by"}),
        Column("source", "text", sql.Identifier(t, "source"), {"en": "Source"}),
        Column("source_id", "text", sql.Identifier(t, "source_id"), {"en": "Id in the source"}),
    ]
    return out


def _value(name: str, kind: str) -> sql.Composable:
    """A column as exported. Timestamps are text, exactly as Python's ``isoformat()`` writes them (in the
    session's time zone), made by PostgreSQL: a fifth of the cost of formatting them value by value here."""
    column = sql.Identifier("t", name)
    if kind != "datetime":
        return column
    return sql.SQL("replace(to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000', '')").format(column)
