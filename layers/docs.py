"""Write docs/data-model.md from the catalogue, so the documentation never drifts from the code.

python -m layers.docs > docs/data-model.md
"""

from __future__ import annotations

from layers.catalogue import CORE_LAYERS
from layers.spec import Layer

HEADER = """# Data model

Generated from the layer catalogue (`layers/*.py`) by `python -m layers.docs`; a test fails when this
page is out of date. Every layer is a PostGIS table in the `public` schema with the system columns below,
the attributes listed for it, and the rules enforced by the database (value lists, ranges, geometry
checks, history). Custom layers that planners define get the same treatment.

## System columns (every layer)

| column | type | meaning |
|---|---|---|
| `id` | bigint | feature id, assigned by the database |
| `uid` | uuid | stable id across devices and syncs; a client may supply it when creating |
| `neighbourhood_id` | bigint | derived from the location when not given (not on `neighbourhoods`) |
| `geom` | geometry, EPSG:4326 | longitude/latitude; type and SRID checked, must be valid |
| `area_m2` / `length_m` | double | generated from the geometry on the ellipsoid (polygon / line layers) |
| `version` | integer | starts at 1, +1 on every change; the API's ETag |
| `created_at`, `created_by`, `updated_at`, `updated_by` | | who and when, kept by triggers |
| `source`, `source_id` | text | where an imported row came from; unique together, so re-imports update |

Every insert, update and delete is written to `mahalle.history` (who, when, cause, before and after).

Who may read and change which rows is decided by the database for every client alike (row-level security and
permit triggers, `layers/sql/identity.sql`): admins everything; planners every layer but the neighbourhood
boundaries in their neighbourhoods; field workers add observations and change only the attributes each layer
lists under *field workers may change*; viewers read. Layers marked public (`neighbourhoods`, `streets`,
`service_points` by default) are readable without logging in. Users, roles, tokens, sessions and the audit log
are in `mahalle.users`, `mahalle.user_roles`, `mahalle.api_tokens`, `mahalle.sessions` and `mahalle.audit_log`.
"""


def _values(layer: Layer, name: str) -> str:
    attr = layer.attribute(name)
    if attr.choices:
        return ", ".join(f"`{c.value}`" for c in attr.choices)
    parts = []
    if attr.minimum is not None:
        parts.append(f"≥ {attr.minimum:g}")
    if attr.maximum is not None:
        parts.append(f"≤ {attr.maximum:g}")
    if attr.max_length:
        parts.append(f"≤ {attr.max_length} characters")
    if attr.references:
        parts.append(f"a `{attr.references}` id")
    return ", ".join(parts)


def layer_section(layer: Layer) -> str:
    lines = [
        f"## `{layer.name}` — {layer.title['en']}",
        "",
        layer.description.get("en", ""),
        "",
        f"Geometry: **{layer.geometry_type or 'none (a table)'}**"
        + (f"; measured: {', '.join(layer.generated_columns)}" if layer.generated_columns else "")
        + (f"; styled by `{layer.key_attribute}`" if layer.key_attribute else ""),
        "",
        "| attribute | type | required | unit | values | label (fa) |",
        "|---|---|---|---|---|---|",
    ]
    for a in layer.attributes:
        default = f" (default `{a.default}`)" if a.default is not None else ""
        lines.append(
            f"| `{a.name}` | {a.type} | {'yes' if a.required else ''}{default} | {a.unit or ''} | "
            f"{_values(layer, a.name)} | {a.label.get('fa', '')} |"
        )
    if layer.field_editable:
        lines.append(f"\nField workers may change: {', '.join(f'`{n}`' for n in layer.field_editable)}.")
    for check in layer.checks:
        lines.append(f"\nRule `{check.name}`: refused when {check.message}.")
    return "\n".join(lines) + "\n"


def render() -> str:
    return HEADER + "\n" + "\n".join(layer_section(layer) for layer in CORE_LAYERS)


if __name__ == "__main__":
    print(render(), end="")
