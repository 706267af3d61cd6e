"""Workshops, above all the polluting scrap and metal yards the office warns, seals or relocates."""

from layers.spec import Attribute, Check, Layer, choices, tr

KIND = choices(
    ("scrap", tr("Scrap yard", "ضایعات", "خردة", "Μάντρα παλιοσίδερων")),
    ("recycling", tr("Recycling", "بازیافت", "إعادة تدوير", "Ανακύκλωση")),
    ("metal", tr("Metalwork", "فلزکاری", "أشغال معدنية", "Μεταλλουργείο")),
    ("auto_repair", tr("Auto repair", "تعمیرگاه خودرو", "تصليح سيارات", "Συνεργείο")),
    ("carpentry", tr("Carpentry", "نجاری", "نجارة", "Ξυλουργείο")),
    ("tannery", tr("Tannery", "دباغی", "دباغة", "Βυρσοδεψείο")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο")),
)
POLLUTANTS = choices(
    ("noise", tr("Noise", "صدا", "ضجيج", "Θόρυβος")),
    ("smoke", tr("Smoke", "دود", "دخان", "Καπνός")),
    ("dust", tr("Dust", "گرد و غبار", "غبار", "Σκόνη")),
    ("oil", tr("Oil / fuel", "روغن و سوخت", "زيوت", "Λάδια")),
    ("chemicals", tr("Chemicals", "مواد شیمیایی", "مواد كيميائية", "Χημικά")),
    ("waste", tr("Waste", "پسماند", "نفايات", "Απόβλητα")),
    ("odour", tr("Odour", "بو", "روائح", "Οσμές")),
)
LICENCE = choices(
    ("licensed", tr("Licensed", "دارای مجوز", "مرخص", "Με άδεια")),
    ("unlicensed", tr("Unlicensed", "فاقد مجوز", "غير مرخص", "Χωρίς άδεια")),
    ("expired", tr("Expired", "منقضی", "منتهية", "Ληγμένη")),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο")),
)
STATUS = choices(
    ("active", tr("Active", "فعال", "نشط", "Ενεργό"), "#c62828"),
    ("warned", tr("Warned", "اخطاریه‌دار", "منذر", "Προειδοποιήθηκε"), "#fb8c00"),
    ("sealed", tr("Sealed", "پلمب‌شده", "مختوم", "Σφραγίστηκε"), "#6a1b9a"),
    ("relocated", tr("Relocated", "جابه‌جاشده", "نُقل", "Μετεγκαταστάθηκε"), "#2e7d32"),
    ("closed", tr("Closed", "تعطیل", "مغلق", "Έκλεισε"), "#757575"),
)

LAYER = Layer(
    name="workshops",
    title=tr("Workshops", "کارگاه‌ها", "الورش", "Εργαστήρια"),
    description=tr(
        "Workshops and yards, with what they emit and where they stand with the authorities.",
        "کارگاه‌ها و انبارهای ضایعات، آلاینده‌ها و وضعیت برخورد",
    ),
    geometry_type="Point",
    key_attribute="status",
    label_attribute="name",
    attributes=(
        Attribute("name", "text", tr("Name", "نام", "الاسم", "Όνομα"), max_length=200),
        Attribute("kind", "choice", tr("Kind", "نوع", "النوع", "Είδος"), required=True, choices=KIND),
        Attribute("polluting", "boolean", tr("Polluting", "آلاینده", "ملوِّث", "Ρυπογόνο"), required=True, default=False),
        Attribute("pollutants", "choices", tr("Pollutants", "آلاینده‌ها", "الملوثات", "Ρύποι"), choices=POLLUTANTS),
        Attribute(
            "licence",
            "choice",
            tr("Licence", "مجوز", "الترخيص", "Άδεια"),
            required=True,
            choices=LICENCE,
            default="unknown",
        ),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση"),
            required=True,
            choices=STATUS,
            default="active",
        ),
        Attribute("employees", "integer", tr("Employees", "شاغلان", "العاملون", "Εργαζόμενοι"), minimum=0),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση")),
    ),
    checks=(
        Check(
            "pollutants_need_polluting",
            "pollutants IS NULL OR cardinality(pollutants) = 0 OR polluting",
            "pollutants are listed but the workshop is not marked as polluting",
        ),
    ),
    field_editable=("status",),
)
