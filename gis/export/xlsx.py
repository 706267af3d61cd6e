"""The XLSX writer (openpyxl, write-only): a sheet per layer, a summary sheet and a sheet of the fields."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import shapely
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from gis.export.columns import Column
from gis.export.query import Rows
from gis.export.values import lon_lat, plain
from gis.export.writer import Writer
from layers.spec import LANGUAGES, Layer

XLSX_CELL_MAX = 32_767


class XlsxWriter(Writer):
    """A sheet per layer and a summary sheet (counts, area and length totals, counts by key value)."""

    geometry = ("wkb", "wkt")

    def __init__(self, work: Path, out: Path, multi: bool):
        super().__init__(work, out, multi)
        self.book = Workbook(write_only=True)
        self.summary = self.book.create_sheet("Summary")
        self.dictionary = self.book.create_sheet("Fields")
        self.dictionary.append(["layer", "field", "type", *(f"label_{lang}" for lang in LANGUAGES), "values"])
        self.totals: list[list[Any]] = []

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.sheet = self.book.create_sheet(layer.name[:31])
        self.points = layer.geometry_type == "Point"
        self.sheet.append([c.name for c in cols] + (["lon", "lat"] if self.points else []) + ["wkt"])
        self.count, self.area, self.length = 0, 0.0, 0.0
        self.by_key: Counter[str] = Counter()
        for c in cols:
            values = (
                ";".join(ch.value for ch in layer.attribute(c.name).choices) if c.name in layer.attribute_names else ""
            )
            self.dictionary.append([layer.name, c.name, c.type, *(c.label.get(lang, "") for lang in LANGUAGES), values])

    def write(self, rows: Rows) -> None:
        names = [c.name for c in self.cols]
        key = names.index(self.layer.key_attribute) if self.layer.key_attribute in names else None
        for row in rows:
            values = [self._cell(plain(v, c.type)) for c, v in zip(self.cols, row, strict=False)]
            if self.points:
                values += lon_lat(row[self.at["wkb"]])
            self.sheet.append([*values, self._cell(self._wkt(row))])
            self.count += 1
            self.area += _number(row, names, "area_m2")
            self.length += _number(row, names, "length_m")
            if key is not None:
                self.by_key[str(row[key])] += 1

    def _wkt(self, row: tuple) -> str | None:
        text = row[self.at["wkt"]]
        if text and len(text) > XLSX_CELL_MAX:  # a cell holds at most 32,767 characters: ~1 cm precision
            text = shapely.to_wkt(shapely.from_wkb(row[self.at["wkb"]]), rounding_precision=7)
        return text if text and len(text) <= XLSX_CELL_MAX else None

    def _cell(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if not value.startswith("="):
            return value
        cell = WriteOnlyCell(self.sheet, value)
        cell.data_type = "s"  # text that starts with "=" stays text, never a formula
        return cell

    def close_layer(self) -> None:
        layer = self.layer
        self.totals.append([layer.name, layer.title.get("en"), self.count, round(self.area, 1), round(self.length, 1)])
        for value, n in sorted(self.by_key.items()):
            self.totals.append([layer.name, f"{layer.key_attribute} = {value}", n, None, None])

    def finish(self) -> None:
        self.summary.append(["layer", "what", "features", "area_m2", "length_m"])
        for row in self.totals:
            self.summary.append(row)
        tmp = self.out.with_name(self.out.name + ".part")
        self.book.save(tmp)
        tmp.replace(self.out)


def _number(row: tuple, names: list[str], name: str) -> float:
    return (row[names.index(name)] or 0.0) if name in names else 0.0
