"""Neighbourhood boundaries: the unit every other row is scoped to."""

import psycopg

from layers.spec import Attribute, Layer, tr

LAYER = Layer(
    name="neighbourhoods",
    title=tr("Neighbourhoods", "محله‌ها", "الأحياء", "Γειτονιές"),
    description=tr("Boundaries of the neighbourhoods the office works in.", "محدوده محله‌های هدف"),
    geometry_type="MultiPolygon",
    measure="area",
    label_attribute="name",
    neighbourhood_scoped=False,
    unique=("code",),
    attributes=(
        Attribute(
            "code",
            "text",
            tr("Code", "کد", "الرمز", "Κωδικός"),
            required=True,
            max_length=40,
            help=tr("Short code used in reports and URLs, e.g. KALLIO."),
        ),
        Attribute("name", "text", tr("Name", "نام", "الاسم", "Όνομα"), required=True, max_length=200),
        Attribute("name_latin", "text", tr("Name (Latin script)", "نام لاتین", "الاسم باللاتينية"), max_length=200),
        Attribute("city", "text", tr("City", "شهر", "المدينة", "Πόλη"), max_length=200),
        Attribute("population", "integer", tr("Population", "جمعیت", "السكان", "Πληθυσμός"), minimum=0),
        Attribute("households", "integer", tr("Households", "خانوار", "الأسر", "Νοικοκυριά"), minimum=0),
        Attribute("office", "text", tr("Office", "دفتر تسهیلگری", "المكتب", "Γραφείο"), max_length=200),
    ),
)


def listing(conn: psycopg.Connection) -> list[tuple]:
    """(id, code, name, minx, miny, maxx, maxy) of every neighbourhood, by code: what a map opens on."""
    return conn.execute(
        "SELECT id, code, name, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
        "FROM public.neighbourhoods ORDER BY code"
    ).fetchall()
