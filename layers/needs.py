"""Needs recorded by area, counted: how many households or people of a block or neighbourhood need food, housing,
legal documents … as a survey or the services found. Counts by category only: no list of people, ever.

A need lies in the area drawn for it, or in the neighbourhood given (``neighbourhood_id``) when no area is drawn;
the coverage and the directory of services answer it by the same categories (``layers/services.py``).
"""

from layers.services import SERVICE
from layers.spec import Attribute, Layer, choices, tr

UNIT = choices(
    ("households", tr("Households", "خانوار", "أسر", "Νοικοκυριά", fr="Ménages")),
    ("people", tr("People", "نفر", "أشخاص", "Άτομα", fr="Personnes")),
)
SOURCE = choices(
    ("survey", tr("Survey", "پیمایش", "مسح", "Έρευνα", fr="Enquête")),
    ("outreach", tr("Outreach", "بازدید سیار", "عمل ميداني", "Κινητή μονάδα", fr="Maraude")),
    ("services", tr("Services' records", "سوابق مراکز خدمت", "سجلات الخدمات", "Αρχεία υπηρεσιών",
                    fr="Dossiers des services")),
    ("official", tr("Official statistics", "آمار رسمی", "إحصاءات رسمية", "Επίσημα στοιχεία",
                    fr="Statistiques officielles")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre")),
)  # fmt: skip

LAYER = Layer(
    name="needs",
    title=tr("Needs", "نیازها", "الاحتياجات", "Ανάγκες", fr="Besoins"),
    description=tr(
        "How many households or people of an area need a kind of service, as a survey or the services found. "
        "Counts only: never a list of people.",
        "تعداد خانوارها یا افراد یک محدوده که به نوعی خدمت نیاز دارند؛ فقط آمار",
        "عدد الأسر أو الأشخاص في منطقة ما الذين يحتاجون إلى نوع من الخدمات؛ أعداد فقط",
        "Πόσα νοικοκυριά ή άτομα μιας περιοχής χρειάζονται ένα είδος υπηρεσίας· μόνο αριθμοί",
        fr="Combien de ménages ou de personnes d'un secteur ont besoin d'un service ; des chiffres seulement",
    ),
    geometry_type="MultiPolygon",
    kind="planning",
    key_attribute="category",
    date_attribute="date",
    geometry_required=False,  # or the neighbourhood as a whole (neighbourhood_id)
    attributes=(
        Attribute("category", "choice", tr("Need", "نیاز", "الحاجة", "Ανάγκη", fr="Besoin"), required=True,
                  choices=SERVICE),
        Attribute("count", "integer", tr("How many", "تعداد", "العدد", "Πόσοι", fr="Combien"), required=True,
                  minimum=1),
        Attribute("unit", "choice", tr("Counted in", "واحد شمارش", "وحدة العد", "Μονάδα", fr="Compté en"),
                  required=True, choices=UNIT, default="households"),
        Attribute("date", "date", tr("As of", "تاریخ", "بتاريخ", "Ημερομηνία", fr="À la date du"), required=True),
        Attribute("found_by", "choice", tr("Found by", "منبع", "المصدر", "Πηγή", fr="Source"), choices=SOURCE),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque"), max_length=2000),
    ),
)  # fmt: skip
