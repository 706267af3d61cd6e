"""Neighbourhood boundaries: the unit every other row is scoped to."""

import psycopg

from layers.common import NAME_LATIN
from layers.spec import Attribute, Layer, tr

LAYER = Layer(
    name="neighbourhoods",
    title=tr("Neighbourhoods", "محله‌ها", "الأحياء", "Γειτονιές", fr="Quartiers"),
    description=tr(
        "Boundaries of the neighbourhoods the office works in.",
        "محدوده محله‌های هدف",
        "حدود الأحياء التي يعمل فيها المكتب",
        "Τα όρια των γειτονιών όπου εργάζεται το γραφείο",
        fr="Limites des quartiers où le bureau intervient.",
    ),
    geometry_type="MultiPolygon",
    measure="area",
    label_attribute="name",
    neighbourhood_scoped=False,
    unique=("code",),
    attributes=(
        Attribute(
            "code",
            "text",
            tr("Code", "کد", "الرمز", "Κωδικός", fr="Code"),
            required=True,
            max_length=40,
            help=tr(
                "Short code used in reports and URLs, e.g. KALLIO.",
                "کد کوتاه برای گزارش‌ها و نشانی‌های وب، مثلاً KALLIO",
                "رمز قصير يُستخدم في التقارير والروابط، مثل KALLIO",
                "Σύντομος κωδικός για αναφορές και διευθύνσεις URL, π.χ. KALLIO",
                fr="Code court utilisé dans les rapports et les URL, p. ex. KALLIO.",
            ),
        ),
        Attribute("name", "text", tr("Name", "نام", "الاسم", "Όνομα", fr="Nom"), required=True, max_length=200),
        NAME_LATIN,
        Attribute("city", "text", tr("City", "شهر", "المدينة", "Πόλη", fr="Ville"), max_length=200),
        Attribute(
            "population", "integer", tr("Population", "جمعیت", "السكان", "Πληθυσμός", fr="Population"), minimum=0
        ),
        Attribute("households", "integer", tr("Households", "خانوار", "الأسر", "Νοικοκυριά", fr="Ménages"), minimum=0),
        Attribute("office", "text", tr("Office", "دفتر تسهیلگری", "المكتب", "Γραφείο", fr="Bureau"), max_length=200),
    ),
)


def listing(conn: psycopg.Connection) -> list[tuple]:
    """(id, code, name, minx, miny, maxx, maxy) of every neighbourhood, by code: what a map opens on."""
    return conn.execute(
        "SELECT id, code, name, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
        "FROM public.neighbourhoods ORDER BY code"
    ).fetchall()
