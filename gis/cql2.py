"""CQL2 text filters → SQL with bind parameters, for exports and OGC API Features part 3.

Parsing is pygeofilter's CQL2-text grammar, extended (Lark ``%extend``) with the standard function forms
its grammar lacks: ``T_AFTER(a, b)`` and the other temporal functions, ``S_DWITHIN(geom, g, distance,
units)``, ``NOT (a AND b)``, one-letter property names and ``''`` inside strings. The SQL generator is ours:
every property name is looked up in the properties the caller allows (from the catalogue), every literal
becomes a bind parameter, and literal types are checked against the property's type first, so a bad
filter is a 400 with a message, never a database error.

A filter is bounded before it is translated: at most ``MAHALLE_MAX_FILTER_LENGTH`` characters and
``MAHALLE_MAX_FILTER_DEPTH`` levels of nesting (a chain of ANDs or of ORs is one level: it is rebalanced into a
tree of logarithmic depth, so thousands of ``OR`` terms never exhaust Python's recursion), and no NUL character.

    props = layer_properties(catalogue["streets"])
    where, params = to_sql(parse("surface = 'earth' AND length_m > 50"), props)
    conn.execute(sql.SQL("SELECT id FROM public.streets t WHERE {}").format(where), params)
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import lark
from psycopg import sql
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_text import parser as cql2_text

from core.errors import MahalleError
from core.settings import get_settings
from layers.spec import Layer

logging.getLogger("lark").setLevel(logging.WARNING)  # pygeofilter turns lark's debug log on at import

GEOMETRY = "geometry"
TEMPORAL = ("date", "datetime")
NUMERIC = ("integer", "number")
TEXTUAL = ("text", "choice")


class FilterError(MahalleError):
    """A CQL2 filter that cannot be parsed or does not fit the layer's properties."""


@dataclass(frozen=True)
class Property:
    """A queryable property: the SQL expression it reads and its catalogue type (or ``geometry``)."""

    expr: sql.Composable
    type: str


# --- parsing ----------------------------------------------------------------------------------------

_EXTENSIONS = r"""
%extend ?condition_1: "NOT"i "(" condition ")" -> not_
%extend ?predicate: TEMPORAL_FUNC "(" expression "," expression ")" -> temporal_call
    | "S_DWITHIN"i "(" expression "," expression "," full_number "," attribute ")" -> dwithin
    | "S_DWITHIN"i "(" expression "," expression "," full_number ")" -> dwithin
TEMPORAL_FUNC.3: /T_(TEMPORAL_NAMES)(?=\s*\()/i
%override attribute: /[a-zA-Z_][a-zA-Z_:0-9.]*/ | DOUBLE_QUOTED
%override SINGLE_QUOTED: /'(?:[^']|'')*'/
%extend ?interval: "INTERVAL"i "(" "'" DATE "'" "," "'" DATE "'" ")" -> interval
%extend ?literal: "BBOX"i "(" full_number "," full_number "," full_number "," full_number ")" -> bbox_literal
""".replace(
    "TEMPORAL_NAMES",
    "BEFORE|AFTER|MEETS|METBY|OVERLAPS|OVERLAPPEDBY|BEGINS|BEGUNBY|DURING|CONTAINS|ENDS|ENDEDBY|EQUALS|INTERSECTS|DISJOINT",
)


@lark.v_args(inline=True)
class _Transformer(cql2_text.CQLTransformer):
    def temporal_call(self, op: lark.Token, lhs: Any, rhs: Any) -> ast.Node:
        name = op.lower()
        if name == "t_disjoint":
            return ast.TimeDisjoint(lhs, rhs)
        return cql2_text.TEMPORAL_PREDICATES_MAP[name](lhs, rhs)

    def dwithin(self, lhs: Any, rhs: Any, distance: float, units: ast.Attribute | None = None) -> ast.Node:
        return ast.DistanceWithin(lhs, rhs, distance, units.name if units else "meters")

    def bbox_literal(self, minx: float, miny: float, maxx: float, maxy: float) -> values.Envelope:
        return values.Envelope(minx, maxx, miny, maxy)  # pygeofilter's Envelope is (x1, x2, y1, y2)

    def SINGLE_QUOTED(self, token: lark.Token) -> str:
        return token[1:-1].replace("''", "'")


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    folder = os.path.dirname(cql2_text.__file__)
    with open(os.path.join(folder, "grammar.lark"), encoding="utf-8") as f:
        grammar = f.read()
    return lark.Lark(
        grammar + _EXTENSIONS,
        parser="lalr",
        maybe_placeholders=False,
        transformer=_Transformer(),
        import_paths=[os.path.dirname(folder)],
    )


def parse(text: str, max_length: int | None = None, max_depth: int | None = None) -> ast.Node:
    """The AST of a CQL2-text filter; a syntax error is a ``FilterError`` saying where. The limits default to
    the settings (``max_filter_length``, ``max_filter_depth``)."""
    if not text or not text.strip():
        raise FilterError("The filter is empty.")
    check_text(text, max_length)
    try:
        node = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise FilterError(
            f"The filter is not valid CQL2 text near column {exc.column}: {_snippet(text, exc)}"
        ) from None
    except (lark.exceptions.LarkError, ValueError) as exc:
        raise FilterError(f"The filter is not valid CQL2 text: {exc}") from None
    except (TypeError, ArithmeticError) as exc:  # raised by pygeofilter's tree building, e.g. for "-inf"
        raise FilterError(f"The filter is not valid CQL2 text ({exc}).") from None
    return bounded(node, max_depth)


def check_text(text: str, max_length: int | None = None) -> None:
    """Refuse a filter (text or JSON) that is too long to be worth parsing, or holds a NUL character."""
    limit = max_length or get_settings().max_filter_length
    if len(text) > limit:
        raise FilterError(
            f"The filter is {len(text):,} characters long; at most {limit:,} are accepted (MAHALLE_MAX_FILTER_LENGTH)."
        )
    if "\x00" in text:
        raise FilterError("The filter contains a NUL character.")


def bounded(node: Any, max_depth: int | None = None) -> Any:
    """``node`` with its AND and OR chains rebalanced, or a ``FilterError`` when it nests too deeply.

    The depth is measured without recursion; a chain of the same combination counts as one level, since it
    is rebuilt as a balanced tree (a OR b OR c OR d → (a OR b) OR (c OR d): the same condition)."""
    limit = max_depth or get_settings().max_filter_depth
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise FilterError(
                f"The filter nests more than {limit} levels deep (MAHALLE_MAX_FILTER_DEPTH); simplify it, "
                "e.g. IN (…) instead of a chain of = … OR = …"
            )
        children = item.get_sub_nodes() if isinstance(item, ast.Node) else item if isinstance(item, list) else ()
        chain = isinstance(item, ast.Combination)
        stack.extend((c, depth if chain and type(c) is type(item) else depth + 1) for c in children)
    return _balance(node)


def _balance(node: Any) -> Any:
    """Rebuild AND/OR chains as balanced trees (recursion here follows the bounded nesting, not the chains)."""
    if isinstance(node, ast.Not):
        return ast.Not(_balance(node.sub_node))
    if not isinstance(node, ast.Combination):
        return node
    kind, operands, stack = type(node), [], [node]
    while stack:  # the chain's operands, left to right
        item = stack.pop()
        if type(item) is kind:
            stack += [item.rhs, item.lhs]
        else:
            operands.append(_balance(item))

    def tree(items: list[Any]) -> Any:
        if len(items) == 1:
            return items[0]
        middle = len(items) // 2
        return kind(tree(items[:middle]), tree(items[middle:]))

    return tree(operands)


def _snippet(text: str, exc: lark.exceptions.UnexpectedInput) -> str:
    pos = max(getattr(exc, "pos_in_stream", 0) or 0, 0)
    return repr(text[max(pos - 15, 0) : pos + 15])


# --- properties -------------------------------------------------------------------------------------


def layer_properties(layer: Layer, alias: str = "t") -> dict[str, Property]:
    """The properties of a layer's features a filter may use: attributes, readable system columns, geometry."""
    out = {name: Property(sql.Identifier(alias, name), kind) for name, kind in layer.property_types().items()}
    if layer.has_geometry:
        out["geom"] = out["geometry"] = Property(sql.Identifier(alias, "geom"), GEOMETRY)
    return out


# --- SQL generation ---------------------------------------------------------------------------------


class _Builder:
    def __init__(self, properties: Mapping[str, Property]):
        self.properties = properties
        self.params: list[Any] = []

    def param(self, value: Any, cast: str | None = None) -> sql.Composable:
        self.params.append(value)
        return sql.SQL("%s::" + cast) if cast else sql.SQL("%s")

    def prop(self, node: ast.Attribute) -> Property:
        try:
            return self.properties[node.name]
        except KeyError:
            known = ", ".join(sorted(n for n in self.properties if n != "geometry"))
            raise FilterError(
                f"The filter uses {node.name!r}, which is not a property here; use one of: {known}."
            ) from None

    # conditions

    def condition(self, node: Any) -> sql.Composable:
        handler = _CONDITIONS.get(type(node))
        if handler is None:
            raise FilterError(f"This server does not support {_op_name(node)} in filters.")
        return handler(self, node)

    def combination(self, node: ast.Combination) -> sql.Composable:
        joiner = sql.SQL(" AND ") if isinstance(node, ast.And) else sql.SQL(" OR ")
        return sql.SQL("({})").format(joiner.join([self.condition(node.lhs), self.condition(node.rhs)]))

    def negation(self, node: ast.Not) -> sql.Composable:
        return sql.SQL("(NOT coalesce({}, false))").format(self.condition(node.sub_node))

    def comparison(self, node: ast.Comparison) -> sql.Composable:
        kind = self.operand_type(node.lhs) or self.operand_type(node.rhs)
        if kind == "choices" and isinstance(node, (ast.Equal, ast.NotEqual)):
            return self.array_membership(node)
        op = sql.SQL(_COMPARISONS[type(node)])
        return sql.SQL("({} {} {})").format(self.expr(node.lhs, kind), op, self.expr(node.rhs, kind))

    def array_membership(self, node: ast.Comparison) -> sql.Composable:
        # A value-list property (text[]) equals a value when it contains it: "safety_issues = 'waste'".
        array, value = (node.lhs, node.rhs) if self.operand_type(node.lhs) == "choices" else (node.rhs, node.lhs)
        test = sql.SQL("({} = ANY({}))").format(self.expr(value, "text"), self.expr(array, "choices"))
        return sql.SQL("(NOT {})").format(test) if isinstance(node, ast.NotEqual) else test

    def like(self, node: ast.Like) -> sql.Composable:
        self.require(node.lhs, TEXTUAL, "LIKE")
        op = sql.SQL("NOT " if node.not_ else "") + sql.SQL("ILIKE" if node.nocase else "LIKE")
        return sql.SQL("({} {} {})").format(self.expr(node.lhs, "text"), op, self.expr(node.pattern, "text"))

    def in_(self, node: ast.In) -> sql.Composable:
        kind = self.operand_type(node.lhs)
        options = sql.SQL(", ").join(self.expr(v, kind) for v in node.sub_nodes)
        return sql.SQL("({} {}IN ({}))").format(
            self.expr(node.lhs, kind), sql.SQL("NOT " if node.not_ else ""), options
        )

    def between(self, node: ast.Between) -> sql.Composable:
        kind = self.operand_type(node.lhs)
        return sql.SQL("({} {}BETWEEN {} AND {})").format(
            self.expr(node.lhs, kind),
            sql.SQL("NOT " if node.not_ else ""),
            self.expr(node.low, kind),
            self.expr(node.high, kind),
        )

    def is_null(self, node: ast.IsNull) -> sql.Composable:
        return sql.SQL("({} IS {}NULL)").format(self.expr(node.lhs, None), sql.SQL("NOT " if node.not_ else ""))

    def include(self, node: ast.Include) -> sql.Composable:
        return sql.SQL("FALSE" if node.not_ else "TRUE")

    def spatial(self, node: ast.SpatialComparisonPredicate) -> sql.Composable:
        function = sql.SQL(_SPATIAL[type(node)])
        return sql.SQL("{}({}, {})").format(function, self.geometry(node.lhs), self.geometry(node.rhs))

    def bbox(self, node: ast.BBox) -> sql.Composable:
        if node.crs and node.crs.upper() not in ("EPSG:4326", "OGC:CRS84", "CRS84"):
            raise FilterError(f"BBOX in {node.crs} is not supported; give longitude/latitude (CRS84).")
        box = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(
            *(self.param(v) for v in _finite(node.minx, node.miny, node.maxx, node.maxy))
        )
        return sql.SQL("ST_Intersects({}, {})").format(self.geometry(node.lhs), box)

    def distance(self, node: ast.DistanceWithin | ast.DistanceBeyond) -> sql.Composable:
        (distance,) = _finite(node.distance)
        metres = distance * _unit_factor(node.units)
        test = sql.SQL("ST_DWithin({}::geography, {}::geography, {})").format(
            self.geometry(node.lhs), self.geometry(node.rhs), self.param(metres)
        )
        return sql.SQL("(NOT {})").format(test) if isinstance(node, ast.DistanceBeyond) else test

    def temporal(self, node: ast.TemporalPredicate) -> sql.Composable:
        self.require(node.lhs, TEMPORAL, _op_name(node))
        kind = self.prop(node.lhs).type
        column = self.expr(node.lhs, kind)
        start, end = _bounds(node.rhs)
        if isinstance(node, ast.TimeAfter):
            start = None if end is not None else start  # after an interval: after its end
        elif isinstance(node, (ast.TimeBefore, ast.TimeBegins)):
            end = None if start is not None else end
        elif isinstance(node, ast.TimeEnds):
            start = None
        lower = self.param(start, _SQL_TYPE[kind]) if start is not None else None
        upper = self.param(end, _SQL_TYPE[kind]) if end is not None else None
        return _temporal_sql(node, column, lower, upper)

    # operands

    def operand_type(self, node: Any) -> str | None:
        if isinstance(node, ast.Attribute):
            return self.prop(node).type
        if isinstance(node, ast.Function) and node.name == "lower":
            return "text"
        if isinstance(node, ast.Arithmetic):
            return "number"
        return None

    def require(self, node: Any, kinds: tuple[str, ...], what: str) -> None:
        kind = self.operand_type(node)
        if kind not in kinds:
            name = node.name if isinstance(node, ast.Attribute) else "its first argument"
            raise FilterError(f"{what} needs a {' or '.join(kinds)} property, and {name} is {kind or 'not one'}.")

    def expr(self, node: Any, kind: str | None) -> sql.Composable:
        if isinstance(node, ast.Attribute):
            prop = self.prop(node)
            if prop.type == GEOMETRY:
                raise FilterError(f"{node.name} is a geometry; compare it with S_INTERSECTS, S_WITHIN, S_DWITHIN …")
            return prop.expr
        if isinstance(node, ast.Function):
            return self.function(node)
        if isinstance(node, ast.Arithmetic):
            op = sql.SQL(_ARITHMETIC[type(node)])
            return sql.SQL("({} {} {})").format(self.expr(node.lhs, "number"), op, self.expr(node.rhs, "number"))
        return self.literal(node, kind)

    def function(self, node: ast.Function) -> sql.Composable:
        if node.name != "lower" or len(node.arguments) != 1:
            raise FilterError(f"The function {node.name!r} is not supported in filters; CASEI(…) is.")
        return sql.SQL("lower({})").format(self.expr(node.arguments[0], "text"))

    def literal(self, value: Any, kind: str | None) -> sql.Composable:
        if isinstance(value, (values.Geometry, values.Envelope, values.Interval, list, dict)):
            raise FilterError(f"{_op_name(value)} cannot be compared here.")
        _check_literal(value, kind)
        if kind in TEMPORAL:
            return self.param(value, _SQL_TYPE[kind])
        if kind == "choices":
            return self.param(value, "text")
        return self.param(value)

    def geometry(self, node: Any) -> sql.Composable:
        if isinstance(node, ast.Attribute):
            prop = self.prop(node)
            if prop.type != GEOMETRY:
                raise FilterError(f"{node.name} is not a geometry property; use geom.")
            return prop.expr
        if isinstance(node, values.Geometry):
            _finite(*_numbers(node.geometry.get("coordinates")))
            return sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON({}), 4326)").format(self.param(json.dumps(node.geometry)))
        if isinstance(node, values.Envelope):
            corners = _finite(node.x1, node.y1, node.x2, node.y2)
            return sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(*(self.param(v) for v in corners))
        raise FilterError("A spatial test needs a geometry property and a geometry (WKT or ENVELOPE).")


_COMPARISONS: dict[type, str] = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
_ARITHMETIC: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mul: "*", ast.Div: "/"}
_SPATIAL: dict[type, str] = {
    ast.GeometryIntersects: "ST_Intersects",
    ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryContains: "ST_Contains",
    ast.GeometryWithin: "ST_Within",
    ast.GeometryTouches: "ST_Touches",
    ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps",
    ast.GeometryEquals: "ST_Equals",
}
_SQL_TYPE = {"date": "date", "datetime": "timestamptz"}
_UNITS = {
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "km": 1000.0,
    "kilometers": 1000.0,
    "kilometres": 1000.0,
    "ft": 0.3048,
    "feet": 0.3048,
    "mi": 1609.344,
    "miles": 1609.344,
}

_CONDITIONS: dict[type, Callable[[_Builder, Any], sql.Composable]] = {
    ast.And: _Builder.combination,
    ast.Or: _Builder.combination,
    ast.Not: _Builder.negation,
    **dict.fromkeys(_COMPARISONS, _Builder.comparison),
    ast.Like: _Builder.like,
    ast.In: _Builder.in_,
    ast.Between: _Builder.between,
    ast.IsNull: _Builder.is_null,
    ast.Include: _Builder.include,
    **dict.fromkeys(_SPATIAL, _Builder.spatial),
    ast.BBox: _Builder.bbox,
    ast.DistanceWithin: _Builder.distance,
    ast.DistanceBeyond: _Builder.distance,
    **dict.fromkeys(
        (ast.TimeAfter, ast.TimeBefore, ast.TimeDuring, ast.TimeEquals, ast.TimeDisjoint, ast.TimeBegins, ast.TimeEnds),
        _Builder.temporal,
    ),
}


def _op_name(node: Any) -> str:
    name = getattr(node, "op", None)
    if name is not None:
        return str(getattr(name, "value", name)).upper()
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(node).__name__).lower()


def _numbers(coordinates: Any) -> list[Any]:
    """Every number in GeoJSON coordinates (without recursion)."""
    out, stack = [], [coordinates]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        else:
            out.append(item)
    return out


def _finite(*numbers: Any) -> list[float]:
    """The coordinates of a geometry literal as floats, refusing what PostGIS cannot place (1e999, NaN)."""
    try:
        out = [float(n) for n in numbers]
    except (TypeError, ValueError):
        raise FilterError("A geometry in the filter has a coordinate that is not a number.") from None
    if not all(math.isfinite(n) for n in out):
        raise FilterError("A geometry in the filter has a coordinate that is not a finite number.")
    return out


def _unit_factor(units: str | None) -> float:
    key = (units or "meters").lower()
    if key not in _UNITS:
        raise FilterError(f"Unknown distance unit {units!r}; use metres, kilometres, feet or miles.")
    return _UNITS[key]


def _check_literal(value: Any, kind: str | None) -> None:
    """Refuse a literal of the wrong type for its property, before the database sees it."""
    if kind is None or value is None:
        return
    ok = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "date": isinstance(value, (date, str)),
        "datetime": isinstance(value, (date, str)),
        "reference": isinstance(value, int) and not isinstance(value, bool),
    }.get(kind, isinstance(value, str))
    if not ok:
        raise FilterError(f"{value!r} cannot be compared with a {kind} property.")


def _bounds(value: Any) -> tuple[Any, Any]:
    """An instant as (t, t) or an interval as (start, end); open ends ('..') are None."""
    if isinstance(value, values.Interval):
        return (None if value.start in ("..", None) else value.start), (
            None if value.end in ("..", None) else value.end
        )
    if isinstance(value, list) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, (date, datetime)):
        return value, value
    raise FilterError("A temporal test needs a DATE(…), TIMESTAMP(…) or INTERVAL(…, …) value.")


def _temporal_sql(
    node: ast.TemporalPredicate, column: sql.Composable, lower: sql.Composable | None, upper: sql.Composable | None
) -> sql.Composable:
    # Feature times here are instants, so each relation reduces to comparisons with the interval's ends.
    def both(a: str, b: str) -> sql.Composable:
        parts = [sql.SQL(f"{{}} {a} {{}}").format(column, lower)] if lower is not None else []
        parts += [sql.SQL(f"{{}} {b} {{}}").format(column, upper)] if upper is not None else []
        return sql.SQL("({})").format(
            sql.SQL(" AND ").join(parts) if parts else sql.SQL("{} IS NOT NULL").format(column)
        )

    if isinstance(node, ast.TimeAfter):
        return sql.SQL("({} > {})").format(column, upper if upper is not None else lower)
    if isinstance(node, ast.TimeBefore):
        return sql.SQL("({} < {})").format(column, lower if lower is not None else upper)
    if lower is None and upper is None:
        raise FilterError("A temporal test needs at least one bound.")
    if isinstance(node, ast.TimeDuring):
        return both(">", "<")
    if isinstance(node, ast.TimeEquals):
        return both(">=", "<=")
    if isinstance(node, ast.TimeDisjoint):
        return sql.SQL("(NOT {})").format(both(">=", "<="))
    if isinstance(node, ast.TimeBegins):
        return sql.SQL("({} = {})").format(column, lower)
    return sql.SQL("({} = {})").format(column, upper)


def to_sql(node: ast.Node, properties: Mapping[str, Property]) -> tuple[sql.Composable, list[Any]]:
    """A boolean SQL expression for ``node`` and its bind parameters (``%s`` placeholders, in order)."""
    builder = _Builder(properties)
    return builder.condition(node), builder.params


def filter_sql(text: str, properties: Mapping[str, Property]) -> tuple[sql.Composable, list[Any]]:
    """Parse and translate in one go."""
    return to_sql(parse(text), properties)
