"""Street fixtures that interventions install or surveys find: lights, signs, speed bumps, trees …"""

from layers.spec import Attribute, Layer, choices, tr

KIND = choices(
    ("street_light", tr("Street light", "چراغ معبر", "عمود إنارة", "Φωτιστικό", fr="Lampadaire"), "#fbc02d"),
    (
        "street_name_sign",
        tr("Street-name sign", "تابلوی نام معبر", "لافتة اسم شارع", "Πινακίδα οδού", fr="Plaque de rue"),
        "#1565c0",
    ),
    (
        "traffic_sign",
        tr("Traffic sign", "تابلوی راهنمایی", "إشارة مرور", "Σήμα κυκλοφορίας", fr="Panneau de signalisation"),
        "#c62828",
    ),
    ("speed_bump", tr("Speed bump", "سرعت‌گیر", "مطب", "Σαμαράκι", fr="Ralentisseur"), "#ef6c00"),
    (
        "bus_stop_sign",
        tr("Bus-stop sign", "تابلوی ایستگاه", "لافتة موقف", "Πινακίδα στάσης", fr="Poteau d'arrêt de bus"),
        "#546e7a",
    ),
    ("tree", tr("Tree", "درخت", "شجرة", "Δέντρο", fr="Arbre"), "#2e7d32"),
    ("bench", tr("Bench", "نیمکت", "مقعد", "Παγκάκι", fr="Banc"), "#8d6e63"),
    ("bin", tr("Waste bin", "سطل زباله", "حاوية", "Κάδος", fr="Corbeille"), "#616161"),
    ("water_point", tr("Water point", "شیر آب", "نقطة مياه", "Βρύση", fr="Point d'eau"), "#0288d1"),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre"), "#9e9e9e"),
)
CONDITION = choices(
    ("good", tr("Good", "سالم", "جيد", "Καλή", fr="Bon")),
    ("fair", tr("Fair", "متوسط", "متوسط", "Μέτρια", fr="Moyen")),
    ("poor", tr("Poor", "نامناسب", "سيئ", "Κακή", fr="Mauvais")),
    ("broken", tr("Broken", "خراب", "معطل", "Χαλασμένο", fr="Hors service")),
    ("missing", tr("Missing", "مفقود", "مفقود", "Λείπει", fr="Manquant")),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο", fr="Inconnu")),
)

LAYER = Layer(
    name="assets",
    title=tr("Street assets", "مبلمان و تجهیزات شهری", "الأصول", "Εξοπλισμός δρόμου", fr="Mobilier urbain"),
    description=tr(
        "Street lights, signs, speed bumps, trees, benches and bins.",
        "چراغ‌ها، تابلوها، سرعت‌گیرها، درختان، نیمکت‌ها و سطل‌ها",
        "أعمدة الإنارة واللافتات والمطبات والأشجار والمقاعد والحاويات",
        "Φωτιστικά, πινακίδες, σαμαράκια, δέντρα, παγκάκια και κάδοι",
        fr="Lampadaires, panneaux, ralentisseurs, arbres, bancs et corbeilles.",
    ),
    geometry_type="Point",
    key_attribute="kind",
    date_attribute="installed_on",
    attributes=(
        Attribute("kind", "choice", tr("Kind", "نوع", "النوع", "Είδος", fr="Type"), required=True, choices=KIND),
        Attribute(
            "condition",
            "choice",
            tr("Condition", "وضعیت", "الحالة", "Κατάσταση", fr="État"),
            required=True,
            choices=CONDITION,
            default="unknown",
        ),
        Attribute(
            "installed_on", "date", tr("Installed on", "تاریخ نصب", "تاريخ التركيب", "Εγκατάσταση", fr="Date de pose")
        ),
        Attribute(
            "intervention_id",
            "reference",
            tr(
                "Installed by intervention",
                "نصب‌شده در اقدام",
                "ركّب ضمن التدخل",
                "Παρέμβαση",
                fr="Posé par l'intervention",
            ),
            references="interventions",
        ),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque")),
    ),
    field_editable=("condition", "note"),
)
