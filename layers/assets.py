"""Street fixtures that interventions install or surveys find: lights, signs, speed bumps, trees …"""

from layers.spec import Attribute, Layer, choices, tr

KIND = choices(
    ("street_light", tr("Street light", "چراغ معبر", "عمود إنارة", "Φωτιστικό"), "#fbc02d"),
    ("street_name_sign", tr("Street-name sign", "تابلوی نام معبر", "لافتة اسم شارع", "Πινακίδα οδού"), "#1565c0"),
    ("traffic_sign", tr("Traffic sign", "تابلوی راهنمایی", "إشارة مرور", "Σήμα κυκλοφορίας"), "#c62828"),
    ("speed_bump", tr("Speed bump", "سرعت‌گیر", "مطب", "Σαμαράκι"), "#ef6c00"),
    ("bus_stop_sign", tr("Bus-stop sign", "تابلوی ایستگاه", "لافتة موقف", "Πινακίδα στάσης"), "#546e7a"),
    ("tree", tr("Tree", "درخت", "شجرة", "Δέντρο"), "#2e7d32"),
    ("bench", tr("Bench", "نیمکت", "مقعد", "Παγκάκι"), "#8d6e63"),
    ("bin", tr("Waste bin", "سطل زباله", "حاوية", "Κάδος"), "#616161"),
    ("water_point", tr("Water point", "شیر آب", "نقطة مياه", "Βρύση"), "#0288d1"),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο"), "#9e9e9e"),
)
CONDITION = choices(
    ("good", tr("Good", "سالم", "جيد", "Καλή")),
    ("fair", tr("Fair", "متوسط", "متوسط", "Μέτρια")),
    ("poor", tr("Poor", "نامناسب", "سيئ", "Κακή")),
    ("broken", tr("Broken", "خراب", "معطل", "Χαλασμένο")),
    ("missing", tr("Missing", "مفقود", "مفقود", "Λείπει")),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο")),
)

LAYER = Layer(
    name="assets",
    title=tr("Street assets", "مبلمان و تجهیزات شهری", "الأصول", "Εξοπλισμός δρόμου"),
    description=tr(
        "Street lights, signs, speed bumps, trees, benches and bins.",
        "چراغ‌ها، تابلوها، سرعت‌گیرها، درختان، نیمکت‌ها و سطل‌ها",
    ),
    geometry_type="Point",
    key_attribute="kind",
    date_attribute="installed_on",
    attributes=(
        Attribute("kind", "choice", tr("Kind", "نوع", "النوع", "Είδος"), required=True, choices=KIND),
        Attribute(
            "condition",
            "choice",
            tr("Condition", "وضعیت", "الحالة", "Κατάσταση"),
            required=True,
            choices=CONDITION,
            default="unknown",
        ),
        Attribute("installed_on", "date", tr("Installed on", "تاریخ نصب", "تاريخ التركيب", "Εγκατάσταση")),
        Attribute(
            "intervention_id",
            "reference",
            tr("Installed by intervention", "نصب‌شده در اقدام", "ركّب ضمن التدخل", "Παρέμβαση"),
            references="interventions",
        ),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση")),
    ),
    field_editable=("condition", "note"),
)
