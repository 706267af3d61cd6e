"""QGIS style documents (QML): a categorised symbol per value of a layer's key attribute, in its colour."""

from __future__ import annotations

import io
from xml.etree import ElementTree as ET

from layers.spec import Layer

_SYMBOL = {
    "Point": ("marker", "SimpleMarker", "color"),
    "MultiPoint": ("marker", "SimpleMarker", "color"),
    "MultiLineString": ("line", "SimpleLine", "line_color"),
    "MultiPolygon": ("fill", "SimpleFill", "color"),
}


def qml(layer: Layer) -> str | None:
    """The layer's style, or None when it has no key attribute with colours or no geometry type to draw."""
    if not layer.key_attribute or layer.geometry_type not in _SYMBOL:
        return None
    choices = [c for c in layer.attribute(layer.key_attribute).choices if c.color]
    if not choices:
        return None
    kind, cls, colour_key = _SYMBOL[layer.geometry_type]
    root = ET.Element("qgis", version="3.28", styleCategories="Symbology")
    renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=layer.key_attribute)
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, choice in enumerate(choices):
        ET.SubElement(categories, "category", symbol=str(i), value=choice.value, label=choice.label.get("en", ""))
        symbol = ET.SubElement(symbols, "symbol", type=kind, name=str(i), alpha="1")
        sym_layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"})
        options = ET.SubElement(sym_layer, "Option", type="Map")
        rgb = ",".join(str(int(choice.color[k : k + 2], 16)) for k in (1, 3, 5)) + ",255"
        ET.SubElement(options, "Option", type="QString", name=colour_key, value=rgb)
        if kind == "line":
            ET.SubElement(options, "Option", type="QString", name="line_width", value="0.8")
    buffer = io.StringIO()
    ET.ElementTree(root).write(buffer, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + buffer.getvalue()
