"""The achievement report as a printable, offline HTML page: text, tables, SVG charts and a folium map.

Nothing is loaded from the network when the page opens: Leaflet's JS and CSS (from the xstatic-leaflet
package, the version folium targets) are inlined, folium's own CDN links are switched off, and the map
has no tile layer, only the neighbourhood's own streets as background. Served by the API, every inline
``<script>`` carries the response's Content-Security-Policy nonce (``web.csp``), so no other script runs.
Every text a user typed reaches the page escaped: by the autoescaped template, and by ``html.escape`` for
map tooltips, which Leaflet inserts as HTML.
"""

from __future__ import annotations

import base64
import html
import re
from contextvars import ContextVar
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import folium
from xstatic.pkg import leaflet as xleaflet

from gis.indicators import LOWER_IS_BETTER
from gis.indicators import label as indicator_label
from layers import interventions, outputs, services, tasks
from web import csp
from web import report_i18n as i18n
from web.templates import render

# Colours for intervention kinds, in the catalogue's order of kinds.
PALETTE = ("#e65100", "#6d4c41", "#fbc02d", "#2e7d32", "#1565c0", "#c62828", "#43a047", "#8e24aa", "#00838f")
KIND_LABELS = {c.value: c.label for c in interventions.KIND}
DOMAIN_LABELS = {c.value: c.label for c in tasks.DOMAIN}
OUTPUT_LABELS = {c.value: c.label for c in outputs.KIND}
SERVICE_LABELS = {c.value: c.label for c in services.SERVICE}
# The value lists as the office keeps them (entries it added or translated), for the page being rendered.
OFFICE_LABELS: ContextVar[dict[tuple[str, str], dict[str, dict[str, str]]] | None] = ContextVar(
    "office_labels", default=None
)


def kind_color(kind: str) -> str:
    kinds = [c.value for c in interventions.KIND]
    return PALETTE[kinds.index(kind) % len(PALETTE)] if kind in kinds else "#455a64"


@cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and its CSS with the images it references inlined as data: URLs."""
    folder = Path(xleaflet.BASE_DIR)

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode((folder / match.group(1)).read_bytes()).decode()
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, (folder / "leaflet.css").read_text(encoding="utf-8"))
    js = (folder / "leaflet.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    return js, css


# Text ----------------------------------------------------------------------------------------------


def _word(list_name: tuple[str, str], declared: dict[str, dict[str, str]], value: str, lang: str) -> str:
    """A value of a list in ``lang``: the office's label, else the catalogue's, else the value itself."""
    label = {**declared.get(value, {}), **(OFFICE_LABELS.get() or {}).get(list_name, {}).get(value, {})}
    return i18n.label(label, lang) if label else value


def kind_label(kind: str, lang: str) -> str:
    return _word(("interventions", "kind"), KIND_LABELS, kind, lang)


def domain_label(domain: str, lang: str) -> str:
    return _word(("tasks", "domain"), DOMAIN_LABELS, domain, lang)


def output_label(kind: str, lang: str) -> str:
    return _word(("outputs", "kind"), OUTPUT_LABELS, kind, lang)


def service_label(category: str, lang: str) -> str:
    return _word(("needs", "category"), SERVICE_LABELS, category, lang)


def _targets_text(targets: dict[str, int], lang: str) -> str:
    return i18n.join([i18n.targets(layer, n, lang) for layer, n in sorted(targets.items())], lang)


def achievement_line(row: dict[str, Any], lang: str) -> str:
    """A line like "Street paving: 77,622 m² on 14 streets" for one group of the report."""
    kind = kind_label(row["kind"], lang)
    quantity = i18n.number(row["quantity"], lang)
    if row["unit"] == "count" or row["unit"] is None:
        line = i18n.t("line.count", lang, kind=kind, quantity=quantity)
    elif row["targets"]:
        targets = _targets_text(row["targets"], lang)
        line = i18n.t(
            "line.targets", lang, kind=kind, quantity=quantity, unit=i18n.unit(row["unit"], lang), targets=targets
        )
    else:
        line = i18n.t("line.plain", lang, kind=kind, quantity=quantity, unit=i18n.unit(row["unit"], lang))
    lights = row["assets"].get("street_light", 0) if row["kind"] == "lighting" else 0
    if lights:
        line = i18n.join([line, i18n.t("line.light_points", lang, count=lights, n=i18n.number(lights, lang))], lang)
    return line


def _quantity(value: float | None, unit: str | None, lang: str) -> str:
    text = i18n.number(value, lang)
    return f"{text} {i18n.unit(unit, lang)}".strip()


def _iso(value: str | date | None) -> date | None:
    if isinstance(value, date) or value is None:
        return value
    return date.fromisoformat(value[:10])


def _indicator_rows(ind: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    rows = []
    for key, unit in ind["units"].items():
        decimals = 0 if unit in ("count", "m") else 1
        decimals = 2 if key == "green_per_resident" else decimals
        suffix = "" if unit == "count" else " " + i18n.unit(unit, lang)
        change = ind["change"][key]
        rows.append(
            {
                "label": indicator_label(key, lang),
                "start": i18n.number(ind["start"][key], lang, decimals)
                + (suffix if ind["start"][key] is not None else ""),
                "end": i18n.number(ind["end"][key], lang, decimals) + (suffix if ind["end"][key] is not None else ""),
                "change": "" if not change else i18n.number(change, lang, decimals, signed=True) + suffix,
                "trend": "" if not change else ("better" if (change > 0) != (key in LOWER_IS_BETTER) else "worse"),
            }
        )
    return rows


# Charts (server-side SVG, drawn by the template) ----------------------------------------------------


def bar_chart(
    rows: list[tuple[str, list[float | None]]], lang: str, maximum: float | None = None, decimals: int = 0
) -> dict[str, Any]:
    """Horizontal bars, one group per row and one bar per series; mirrored for right-to-left text."""
    width, label_w, value_w, bar_h, gap = 680, 250, 60, 13, 10
    series = max((len(v) for _, v in rows), default=1)
    group_h = series * bar_h + gap
    top = maximum or max((x or 0 for _, values in rows for x in values), default=0) or 1
    plot_w = width - label_w - value_w
    rtl = i18n.direction(lang) == "rtl"
    out = []
    for i, (label, values) in enumerate(rows):
        y = i * group_h + gap // 2
        bars = []
        for j, value in enumerate(values):
            w = round(plot_w * (value or 0) / top, 1)
            x = width - label_w - w if rtl else label_w
            text_x = x - 4 if rtl else x + w + 4
            bars.append(
                {
                    "x": x,
                    "y": y + j * bar_h,
                    "w": w,
                    "h": bar_h - 2,
                    "series": j,
                    "text_x": text_x,
                    "text": i18n.number(value, lang, decimals),
                }
            )
        out.append(
            {
                "label": label,
                "label_x": width - 4 if rtl else label_w - 8,
                "label_y": y + series * bar_h / 2 + 4,
                "bars": bars,
            }
        )
    return {
        "width": width,
        "height": len(rows) * group_h + gap,
        "rows": out,
        "rtl": rtl,
        "label_anchor": "start" if rtl else "end",
        "value_anchor": "end" if rtl else "start",
    }


def _charts(d: dict[str, Any], lang: str) -> dict[str, Any]:
    ind = d["indicators"]
    pct_keys = [k for k, u in ind["units"].items() if u == "%"]
    return {
        "indicators": bar_chart(
            [(indicator_label(k, lang), [ind["start"][k], ind["end"][k]]) for k in pct_keys], lang, 100, 1
        ),
        "tasks": bar_chart(
            [(i18n.label(DOMAIN_LABELS[k], lang), [n]) for k, n in d["tasks_completed"]["by_domain"].items()], lang
        ),
        "kinds": bar_chart([(kind_label(r["kind"], lang), [r["interventions"]]) for r in d["achievements"]], lang),
        "outcomes": bar_chart(
            [(domain_label(k, lang), [n]) for k, n in d.get("outcomes", {}).get("by_domain", {}).items()], lang
        ),
    }


def _ages(row: dict[str, Any], lang: str) -> str:
    values = [row.get(band) for band in outputs.AGE_BANDS]
    return "" if all(v is None for v in values) else " / ".join(i18n.number(v, lang) for v in values)


def _outcome_rows(d: dict[str, Any], lang: str) -> list[dict[str, str]]:
    return [
        {
            "domain": domain_label(r["domain"], lang),
            "kind": output_label(r["kind"], lang),
            "quantity": _quantity(r["quantity"], r["unit"], lang),
            "female": "" if r["female"] is None else i18n.number(r["female"], lang),
            "male": "" if r["male"] is None else i18n.number(r["male"], lang),
            "ages": _ages(r, lang),
        }
        for r in d.get("outcomes", {}).get("by_kind", [])
    ]


def _need_rows(d: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    def n(value: float | None) -> str:
        return "" if value is None else i18n.number(value, lang)

    return [
        {
            "category": service_label(r["category"], lang),
            "households": n(r["households"]),
            "people": n(r["people"]),
            "services": n(r["services"]),
            "capacity": n(r["capacity"]),
            "referred": n(r["referred"]),
            "followed_up": n(r["followed_up"]),
            "unserved": r["unserved"],
        }
        for r in d.get("needs_and_services", [])
    ]


def _target_rows(d: dict[str, Any], lang: str) -> list[dict[str, str]]:
    return [
        {
            "domain": domain_label(r["domain"], lang),
            "kind": output_label(r["kind"], lang),
            "tasks": i18n.number(r["tasks"], lang),
            "planned": _quantity(r["planned"], r["unit"], lang),
            "achieved": _quantity(r["achieved"], r["unit"], lang),
            "pct": "" if r["achieved_pct"] is None else i18n.number(r["achieved_pct"], lang, 1) + " %",
            "in_period": _quantity(r["achieved_in_period"], r["unit"], lang),
        }
        for r in d.get("outcomes", {}).get("targets", [])
    ]


# Map -----------------------------------------------------------------------------------------------


def _tip(item: dict[str, Any], lang: str) -> str:
    parts = [item["title"], kind_label(item["kind"], lang), _quantity(item["quantity"], item["unit"], lang)]
    parts.append(i18n.format_date(_iso(item["actual_end"]), lang))
    return "<br>".join(html.escape(str(p)) for p in parts)


def _bounds(geometry: dict[str, Any]) -> list[list[float]]:
    xs, ys = [], []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for part in c:
                walk(part)

    walk(geometry["coordinates"])
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


def build_map(geo: dict[str, Any], lang: str) -> folium.Map:
    bounds = _bounds(geo["boundary"])
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    fmap = folium.Map(
        location=center, tiles=None, zoom_start=15, zoom_snap=0.25, control_scale=True, width="100%", height="520px"
    )
    fmap.default_js, fmap.default_css = [], []  # Leaflet is inlined by the page, nothing from a CDN
    if geo.get("streets"):
        folium.GeoJson(
            geo["streets"], name="streets", style_function=lambda _: {"color": "#9e9e9e", "weight": 1}
        ).add_to(fmap)
    folium.GeoJson(
        geo["boundary"], name="boundary", style_function=lambda _: {"color": "#455a64", "weight": 2, "fill": False}
    ).add_to(fmap)
    for kind in dict.fromkeys(i["kind"] for i in geo["interventions"]):
        color = kind_color(kind)
        features = [
            {"type": "Feature", "geometry": i["geometry"], "properties": {"tip": _tip(i, lang)}}
            for i in geo["interventions"]
            if i["kind"] == kind
        ]
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name=html.escape(kind_label(kind, lang)),
            style_function=lambda _, c=color: {"color": c, "weight": 5, "fillColor": c, "fillOpacity": 0.6},
            marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(fmap)
    fmap.fit_bounds(bounds)
    return fmap


def map_parts(fmap: folium.Map, nonce: str | None = None) -> dict[str, str]:
    """folium's head, body and script fragments, to embed in the report page; with ``nonce``, folium's own
    ``<script>`` tags carry it (the page's Content-Security-Policy runs no other inline script)."""
    root = fmap.get_root()
    root.render()
    header = root.header.render()
    if nonce:
        header = re.sub(r"<script(?=[\s>])", f'<script nonce="{nonce}"', header)
    return {"header": header, "html": root.html.render(), "script": root.script.render()}


# Page ----------------------------------------------------------------------------------------------


def render_report(report: Any, lang: str, digits: str | None = None) -> str:
    """The page in ``lang``, its numbers in ``digits`` (a CLDR numbering system) when not the language's own."""
    lang = i18n.with_digits(i18n.lang_or_default(lang), digits)
    office = OFFICE_LABELS.set(getattr(report, "labels", {}))
    try:
        return _render(report, lang)
    finally:
        OFFICE_LABELS.reset(office)


def _render(report: Any, lang: str) -> str:
    d = report.data
    hood = d["neighbourhood"]
    leaflet_js, leaflet_css = leaflet_assets()
    nonce = csp.script_nonce()  # served by the API: its inline scripts carry the response's nonce
    period = i18n.t(
        "report.period",
        lang,
        start=i18n.format_date(_iso(d["period"]["from"]), lang),
        end=i18n.format_date(_iso(d["period"]["to"]), lang),
    )
    context = {
        "lang": lang,
        "dir": i18n.direction(lang),
        "t": lambda key, **kw: i18n.t(key, lang, **kw),
        "hood": hood,
        "population": i18n.number(hood.get("population"), lang),
        "period": period,
        "generated": i18n.t("report.generated", lang, date=i18n.format_date(_iso(d["generated_on"]), lang)),
        "members": i18n.join([h["name"] for h in d.get("neighbourhoods", [])], lang),
        "data_start": d.get("data_start")
        and i18n.t("report.data_start", lang, date=i18n.format_date(_iso(d["data_start"]), lang)),
        "outcome_rows": _outcome_rows(d, lang),
        "target_rows": _target_rows(d, lang),
        "need_rows": _need_rows(d, lang),
        "lines": [achievement_line(r, lang) for r in d["achievements"]],
        "kind_rows": [
            {
                "kind": kind_label(r["kind"], lang),
                "color": kind_color(r["kind"]),
                "interventions": i18n.number(r["interventions"], lang),
                "quantity": _quantity(r["quantity"], r["unit"], lang),
                "targets": _targets_text(r["targets"], lang),
                "planned_cost": i18n.number(r["planned_cost"], lang),
                "actual_cost": i18n.number(r["actual_cost"], lang),
            }
            for r in d["achievements"]
        ],
        "task_rows": [
            {"domain": domain_label(k, lang), "count": i18n.number(n, lang)}
            for k, n in d["tasks_completed"]["by_domain"].items()
        ],
        "tasks_total": i18n.number(d["tasks_completed"]["total"], lang),
        "indicator_rows": _indicator_rows(d["indicators"], lang),
        "intervention_rows": [
            {
                "title": i["title"],
                "kind": kind_label(i["kind"], lang),
                "completed_on": i18n.format_date(_iso(i["actual_end"]), lang),
                "quantity": _quantity(i["achieved_quantity"], i["unit"], lang),
                "contractor": i["contractor"] or i["agency"] or "—",
            }
            for i in d["interventions"]
        ],
        "charts": _charts(d, lang),
        "map": map_parts(build_map(report.geo, lang), nonce),
        "nonce": nonce,
        "leaflet_js": leaflet_js,
        "leaflet_css": leaflet_css,
    }
    return render("report.html", **context)
