"""Declarative mapping from a source's fields and values to a layer's attributes.

A mapping is JSON (a file, or the body of an upload)::

    {
      "fields": {"NAME_FA": "name", "Surface type": "surface", "CODE": ["name_latin", "note"], "OBJECTID": null},
      "values": {"surface": {"Asphalt": "asphalt", "آسفالت": "asphalt", "خاکی": "earth"}},
      "defaults": {"lighting": "unknown"},
      "id_field": "OBJECTID"
    }

A field may feed several attributes (a list) and the id as well: a mapping never loses a field it names.

Fields not named there are matched automatically: by attribute name (any case, spaces or dashes for
underscores), by the attribute's label in any catalogue language ("پوشش سطح" → surface), and by the
10-character names a Shapefile cuts them to. Values of value-list attributes are matched the same way
(value, or label in any language). A ``null`` field target drops the field on purpose. Every field left
unmapped and every value that fits no value of the list is counted for the report.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import MahalleError
from layers.spec import SYSTEM_COLUMNS, Attribute, Layer

# Fields our own exports add, and fields GDAL adds when reading KML: known, not attributes.
SYSTEM_FIELDS = frozenset(
    {*SYSTEM_COLUMNS, "fid", "ogc_fid", "neighbourhood", "lon", "lat", "wkt"}
    | {"description", "timestamp", "begin", "end", "altitudemode", "tessellate", "extrude", "visibility"}
    | {"draworder", "icon", "snippet"}
)
TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "بله", "نعم", "ναι", "آری"})
FALSE = frozenset({"false", "f", "no", "n", "0", "off", "خیر", "لا", "όχι", "نه"})


class MappingError(MahalleError):
    """A mapping from a file's fields to a layer's attributes that cannot be used."""


class ValueProblem(ValueError):
    """One value that cannot become its attribute's type; the message goes into the row's reason."""


@dataclass
class Mapping:
    fields: dict[str, list[str]] = field(default_factory=dict)  # source field → attributes ([]: dropped on purpose)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    id_field: str | None = None

    def __post_init__(self) -> None:
        self.fields = {str(k): _targets(v) for k, v in self.fields.items()}  # "attr" and None read as in JSON

    @classmethod
    def from_json(cls, data: Any, name: str = "the mapping") -> Mapping:
        if not isinstance(data, dict):
            raise MappingError(f"{name}: a mapping is a JSON object with fields, values, defaults and id_field.")
        unknown = set(data) - {"fields", "values", "defaults", "id_field"}
        if unknown:
            raise MappingError(f"{name}: unknown keys {', '.join(sorted(unknown))}.")
        try:
            return cls(
                fields=dict(data.get("fields") or {}),
                values={str(a): {str(k): str(v) for k, v in m.items()} for a, m in (data.get("values") or {}).items()},
                defaults=dict(data.get("defaults") or {}),
                id_field=None if data.get("id_field") in (None, "") else str(data["id_field"]),
            )
        except (AttributeError, TypeError) as exc:
            raise MappingError(f"{name}: malformed ({exc}).") from None

    @classmethod
    def load(cls, path: Path) -> Mapping:
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")), path.name)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MappingError(f"{path.name}: cannot be read as JSON ({exc}).") from None

    def check(self, layer: Layer) -> None:
        """Refuse a mapping that names attributes or values the layer does not have."""
        names = set(layer.attribute_names)
        for source, targets in self.fields.items():
            for target in targets:
                if target not in names:
                    raise MappingError(f"The mapping sends {source!r} to {target!r}, which {layer.name} does not have.")
        fed = [t for targets in self.fields.values() for t in targets]
        twice = sorted({t for t in fed if fed.count(t) > 1})
        if twice:
            raise MappingError(f"The mapping fills {twice[0]!r} from more than one field; choose one.")
        for attr, table in {**self.values, **{k: {"": v} for k, v in self.defaults.items()}}.items():
            if attr not in names:
                raise MappingError(f"The mapping gives values for {attr!r}, which {layer.name} does not have.")
            allowed = layer.attribute(attr).values
            bad = [v for v in table.values() if allowed and isinstance(v, str) and v not in allowed]
            if bad:
                raise MappingError(
                    f"The mapping maps to {bad[0]!r}, which is not a value of {attr}; "
                    f"its values are: {', '.join(sorted(allowed))}."
                )


def _targets(value: Any) -> list[str]:
    """A field's targets as the JSON gives them: null (dropped), one attribute, or a list of attributes."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return list(dict.fromkeys(str(v) for v in value if v not in (None, "")))
    if isinstance(value, str):
        return [value]
    raise TypeError(f"{value!r} is not an attribute name or a list of them")


def normal(text: str) -> str:
    """Compare names and labels loosely: case, accents, spaces, dashes, Arabic/Persian letter forms."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().strip()
    text = text.translate(str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی", "\u200c": " "}))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[\s\-_./:]+", "_", text).strip("_")


def _labels(*items: tuple[str, dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value, label in items:
        for text in (value, *label.values()):
            out.setdefault(normal(text), value)
    return out


@dataclass
class FieldPlan:
    """Which source field fills which attribute, and what was left out."""

    columns: list[tuple[str, Attribute]]  # (source field, attribute it fills); a field may fill several
    unmapped: list[str]  # fields nothing matched: not imported
    ignored: list[str]  # fields left out on purpose (by the mapping, or known structure such as our own ids)
    how: dict[str, str] = field(default_factory=dict)  # source field → how it was matched (mapping, name, label, short)

    def targets(self, source: str) -> list[str]:
        return [a.name for s, a in self.columns if s == source]


def plan_fields(
    layer: Layer,
    fields: list[str],
    mapping: Mapping,
    short_names: dict[str, str] | None = None,
    known: frozenset[str] = frozenset(),
) -> FieldPlan:
    """Match every source field to attributes; ``known`` fields (format structure) are not reported as unmapped.
    The mapping's fields come first, so an attribute it fills is not also guessed from another field."""
    by_name = {a.name: a for a in layer.attributes}
    lookup = _labels(*((a.name, a.label) for a in layer.attributes))
    plan = FieldPlan([], [], [])
    filled = {t for targets in mapping.fields.values() for t in targets}
    for source in sorted(fields, key=lambda f: f not in mapping.fields):
        targets, how = _field_targets(source, mapping, lookup, by_name, short_names or {})
        full = normal((short_names or {}).get(source, source))
        if how != "mapping":
            targets = [t for t in targets if t not in filled]
        if targets:
            plan.columns += [(source, by_name[t]) for t in targets]
            plan.how[source] = how or ""
            filled.update(targets)
        elif how is not None or full in SYSTEM_FIELDS or full in known or source in mapping.fields:
            plan.ignored.append(source)  # dropped on purpose, our own structure, or an earlier field fills it
        else:
            plan.unmapped.append(source)
    order = {name: i for i, name in enumerate(fields)}
    plan.columns.sort(key=lambda pair: order[pair[0]])
    plan.unmapped.sort(key=order.__getitem__)
    plan.ignored.sort(key=order.__getitem__)
    return plan


def _field_targets(
    source: str, mapping: Mapping, lookup: dict[str, str], by_name: dict[str, Attribute], short: dict[str, str]
) -> tuple[list[str], str | None]:
    """The attributes ``source`` fills and how that was found (None: nothing matched)."""
    if source in mapping.fields:
        return mapping.fields[source], "mapping"
    if source in short and short[source] in by_name:
        return [short[source]], "short"
    key = normal(source)
    if key in lookup:
        return [lookup[key]], "name" if key == normal(lookup[key]) else "label"
    if len(source) == 10:  # a Shapefile's cut name: the one attribute it is the start of
        starts = [name for name in by_name if name.startswith(source.lower())]
        if len(starts) == 1:
            return starts, "short"
    return [], None


class ValueMapper:
    """Turns source values into attribute values, counting the ones that fit nothing."""

    def __init__(self, layer: Layer, mapping: Mapping):
        self.layer = layer
        self.mapping = mapping
        self.unmapped: dict[str, Counter[str]] = {}
        self._seen: dict[tuple[str, str], str | None] = {}
        self._misses: list[str] = []  # the texts of the value being converted that fit no value of the list
        self._choices = {
            a.name: {**_labels(*((c.value, c.label) for c in a.choices)), **_explicit(mapping, a.name)}
            for a in layer.attributes
            if a.choices
        }

    def convert(self, attr: Attribute, value: Any) -> Any:
        """The value as the attribute's type; ``None`` for blanks; ``ValueProblem`` if it cannot be."""
        values, problems = self.convert_column(attr, [value])
        if problems:
            raise ValueProblem(problems[0])
        return values[0]

    def convert_column(self, attr: Attribute, values: Sequence[Any]) -> tuple[list[Any], dict[int, str]]:
        """``convert`` for a whole column: the values, and the problem of each row (by index) that has one.
        Numbers and plain texts are checked with numpy or one pass; other values once per distinct value."""
        column = values.tolist() if isinstance(values, np.ndarray) and values.dtype.kind not in "fiu" else values
        fast = _fast_column(attr, column)
        if fast is not None:
            return fast
        out: list[Any] = []
        problems: dict[int, str] = {}
        done: dict[tuple[type, Any], tuple[Any, str | None, list[str]]] = {}
        for i, value in enumerate(column):
            key = (type(value), value) if isinstance(value, _HASHABLE) else None
            result = done.get(key) if key is not None else None
            if result is None:
                result = self._convert_one(attr, value)
                if key is not None:
                    done[key] = result
            out.append(result[0])
            if result[1] is not None:
                problems[i] = result[1]
            for text in result[2]:
                self.unmapped.setdefault(attr.name, Counter())[text] += 1
        return out, problems

    def _convert_one(self, attr: Attribute, value: Any) -> tuple[Any, str | None, list[str]]:
        """(value, problem, the texts no value of the list fits) for one source value."""
        self._misses = []
        if _blank(value):
            return None, None, self._misses
        try:
            return _CONVERTERS[attr.type](self, attr, value), None, self._misses
        except ValueProblem as exc:
            return None, str(exc), self._misses
        except (ValueError, TypeError, OverflowError):
            return None, f"{attr.name}: {value!r} is not a {attr.type}", self._misses

    def choice(self, attr: Attribute, value: Any) -> str:
        text = _text(value)
        key = (attr.name, text)
        if key not in self._seen:  # a column repeats a few values many times: match each once
            explicit = self.mapping.values.get(attr.name, {})
            self._seen[key] = explicit.get(text) or self._choices[attr.name].get(normal(text))
        found = self._seen[key]
        if found is None:
            self._misses.append(text)
            raise ValueProblem(f"{attr.name}: {text!r} is not one of {', '.join(attr.values)}")
        return found

    def choices(self, attr: Attribute, value: Any) -> list[str]:
        items = _list(value)
        return list(dict.fromkeys(self.choice(attr, item) for item in items if not _blank(item)))


_HASHABLE = (str, int, float, bool, date, datetime, np.generic)


def _fast_column(attr: Attribute, values: Sequence[Any]) -> tuple[list[Any], dict[int, str]] | None:
    """Whole-column conversion for the common cases (the same results and messages as value by value)."""
    if attr.type in ("integer", "reference", "number") and isinstance(values, np.ndarray):
        return _number_column(attr, values)
    if attr.type == "text" and all(v is None or type(v) is str for v in values):
        return _text_column(attr, values)
    return None


def _text_column(attr: Attribute, values: Sequence[str | None]) -> tuple[list[Any], dict[int, str]]:
    out: list[Any] = [v if v is not None and v.strip() else None for v in values]
    problems: dict[int, str] = {}
    if attr.max_length is not None:
        for i, v in enumerate(out):
            if v is not None and len(v) > attr.max_length:
                problems[i] = f"{attr.name}: longer than {attr.max_length} characters ({len(v)})"
                out[i] = None
    return out, problems


def _number_column(attr: Attribute, values: np.ndarray) -> tuple[list[Any], dict[int, str]]:
    x = values.astype(float)
    present = ~np.isnan(x)
    whole = attr.type != "number"
    with np.errstate(invalid="ignore"):
        wrong = present & ~np.isfinite(x) if not whole else present & ~(np.isfinite(x) & (np.mod(x, 1) == 0))
        low = -np.inf if attr.minimum is None else attr.minimum
        high = np.inf if attr.maximum is None else attr.maximum
        outside = present & ~wrong & ((x < low) | (x > high))
    ok = present & ~wrong & ~outside
    out: list[Any] = x.tolist()
    if whole:  # Python ints: exact at any size (the column's type has the last word)
        out = [int(v) if good else None for v, good in zip(out, ok.tolist(), strict=True)]
    problems: dict[int, str] = {}
    kind = "a whole number" if whole else "a finite number"
    for i in np.flatnonzero(wrong):
        problems[int(i)] = f"{attr.name}: {values[i].item()!r} is not {kind}"
    for i in np.flatnonzero(outside):
        number = int(x[i]) if whole else float(x[i])
        problems[int(i)] = f"{attr.name}: {number:g} is outside {'' if attr.minimum is None else attr.minimum}.." + (
            "" if attr.maximum is None else f"{attr.maximum}"
        )
    for i in np.flatnonzero(~ok):
        out[i] = None
    return out, problems


def _explicit(mapping: Mapping, attr: str) -> dict[str, str]:
    return {normal(k): v for k, v in mapping.values.get(attr, {}).items()}


def _blank(value: Any) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (np.datetime64,)):
        return str(value)
    return str(value).strip()


def _to_text(mapper: ValueMapper, attr: Attribute, value: Any) -> str:
    text = _text(value) if not isinstance(value, str) else value
    if attr.max_length is not None and len(text) > attr.max_length:
        raise ValueProblem(f"{attr.name}: longer than {attr.max_length} characters ({len(text)})")
    return text


def _to_integer(mapper: ValueMapper, attr: Attribute, value: Any) -> int:
    number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    if not number.is_integer():
        raise ValueProblem(f"{attr.name}: {value!r} is not a whole number")
    return _in_range(attr, int(number))


def _to_number(mapper: ValueMapper, attr: Attribute, value: Any) -> float:
    number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    if not np.isfinite(number):
        raise ValueProblem(f"{attr.name}: {value!r} is not a finite number")
    return _in_range(attr, number)


def _in_range(attr: Attribute, number: float) -> Any:
    if (attr.minimum is not None and number < attr.minimum) or (attr.maximum is not None and number > attr.maximum):
        low = "" if attr.minimum is None else attr.minimum
        high = "" if attr.maximum is None else attr.maximum
        raise ValueProblem(f"{attr.name}: {number:g} is outside {low}..{high}")
    return number


def _to_boolean(mapper: ValueMapper, attr: Attribute, value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = normal(_text(value))
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueProblem(f"{attr.name}: {value!r} is not yes/no")


def _to_date(mapper: ValueMapper, attr: Attribute, value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _text(value).replace("/", "-")
    return date.fromisoformat(text[:10]).isoformat()


def _to_datetime(mapper: ValueMapper, attr: Attribute, value: Any) -> str:
    if isinstance(value, datetime):
        moment = value
    else:
        text = _text(value).replace("/", "-")
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # files without a zone (Shapefile, CSV) are read as UTC
    return moment.isoformat()


def _list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    text = _text(value)
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    if text.startswith("{") and text.endswith("}"):  # PostgreSQL array text
        text = text[1:-1]
    return [part.strip().strip('"') for part in re.split(r"[;,|]", text)]


_CONVERTERS = {
    "text": _to_text,
    "integer": _to_integer,
    "reference": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
    "choice": ValueMapper.choice,
    "choices": ValueMapper.choices,
}
