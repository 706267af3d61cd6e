"""Land parcels and buildings: use, tenure and building status."""

from layers.spec import Attribute, Layer, choices, tr

LAND_USE = choices(
    ("residential", tr("Residential", "مسکونی", "سكني", "Κατοικία", fr="Résidentiel"), "#f2c572"),
    ("commercial", tr("Commercial", "تجاری", "تجاري", "Εμπορική", fr="Commercial"), "#e8796b"),
    ("mixed", tr("Mixed use", "مختلط", "مختلط", "Μικτή", fr="Mixte"), "#d9a0c6"),
    ("industrial", tr("Industrial", "صنعتی", "صناعي", "Βιομηχανική", fr="Industriel"), "#a58bd1"),
    ("public", tr("Public facility", "عمومی", "مرفق عام", "Δημόσια", fr="Équipement public"), "#7fa7d9"),
    ("religious", tr("Religious", "مذهبی", "ديني", "Θρησκευτική", fr="Cultuel"), "#9bc4c4"),
    ("park", tr("Park / green space", "فضای سبز", "حديقة", "Πάρκο", fr="Parc / espace vert"), "#7cc47c"),
    ("vacant", tr("Vacant", "بایر", "شاغر", "Κενό", fr="Vacant"), "#cccccc"),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre"), "#b0a58f"),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο", fr="Inconnu"), "#eeeeee"),
)
TENURE = choices(
    (
        "registered_deed",
        tr("Registered deed", "سند رسمی", "سند مسجل", "Καταχωρισμένος τίτλος", fr="Titre foncier enregistré"),
        "#2e7d32",
    ),
    (
        "customary_deed",
        tr("Customary deed", "سند عادی (قولنامه‌ای)", "سند عرفي", "Άτυπος τίτλος", fr="Acte sous seing privé"),
        "#f9a825",
    ),
    ("informal", tr("Informal", "غیررسمی", "غير رسمي", "Άτυπη", fr="Informel"), "#c62828"),
    ("public", tr("Public land", "زمین عمومی", "أرض عامة", "Δημόσια γη", fr="Terrain public"), "#1565c0"),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο", fr="Inconnu"), "#9e9e9e"),
)
BUILDING_STATUS = choices(
    ("none", tr("No building", "بدون بنا", "بدون مبنى", "Χωρίς κτίριο", fr="Non bâti")),
    ("good", tr("Good", "خوب", "جيد", "Καλή", fr="Bon")),
    ("fair", tr("Fair", "متوسط", "متوسط", "Μέτρια", fr="Moyen")),
    ("poor", tr("Poor", "فرسوده", "سيئ", "Κακή", fr="Mauvais")),
    ("ruined", tr("Ruined", "مخروبه", "متهدم", "Ερειπωμένο", fr="En ruine")),
    (
        "under_construction",
        tr("Under construction", "در حال ساخت", "قيد الإنشاء", "Υπό κατασκευή", fr="En construction"),
    ),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο", fr="Inconnu")),
)
PERMIT = choices(
    ("permitted", tr("Permitted", "دارای پروانه", "مرخص", "Με άδεια", fr="Avec permis")),
    ("unpermitted", tr("No permit", "فاقد پروانه", "غير مرخص", "Χωρίς άδεια", fr="Sans permis")),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο", fr="Inconnu")),
)

LAYER = Layer(
    name="parcels",
    title=tr("Parcels", "قطعات", "قطع الأراضي", "Αγροτεμάχια", fr="Parcelles"),
    description=tr(
        "Land parcels and buildings with land use, tenure and building status.",
        "قطعات زمین و ساختمان‌ها با کاربری، وضعیت مالکیت و وضعیت بنا",
        "قطع الأراضي والمباني مع استخدام الأرض والحيازة وحالة المبنى",
        "Αγροτεμάχια και κτίρια με χρήση γης, ιδιοκτησιακό καθεστώς και κατάσταση κτιρίου",
        fr="Parcelles et bâtiments, avec l'usage du sol, le statut foncier et l'état du bâti.",
    ),
    geometry_type="MultiPolygon",
    measure="area",
    key_attribute="tenure",
    label_attribute="parcel_code",
    attributes=(
        Attribute(
            "parcel_code",
            "text",
            tr("Parcel code", "کد قطعه", "رمز القطعة", "Κωδικός", fr="Code de parcelle"),
            max_length=60,
        ),
        Attribute(
            "land_use",
            "choice",
            tr("Land use", "کاربری", "استخدام الأرض", "Χρήση γης", fr="Usage du sol"),
            required=True,
            choices=LAND_USE,
            default="unknown",
        ),
        Attribute(
            "tenure",
            "choice",
            tr("Tenure", "وضعیت مالکیت", "الحيازة", "Ιδιοκτησία", fr="Statut foncier"),
            required=True,
            choices=TENURE,
            default="unknown",
        ),
        Attribute(
            "building_status",
            "choice",
            tr("Building status", "وضعیت بنا", "حالة المبنى", "Κατάσταση", fr="État du bâti"),
            required=True,
            choices=BUILDING_STATUS,
            default="unknown",
        ),
        Attribute(
            "permit",
            "choice",
            tr("Building permit", "پروانه ساخت", "رخصة البناء", "Άδεια", fr="Permis de construire"),
            required=True,
            choices=PERMIT,
            default="unknown",
        ),
        Attribute(
            "floors",
            "integer",
            tr("Floors", "تعداد طبقات", "الطوابق", "Όροφοι", fr="Nombre d'étages"),
            minimum=0,
            maximum=200,
        ),
        Attribute("address", "text", tr("Address", "نشانی", "العنوان", "Διεύθυνση", fr="Adresse"), max_length=300),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque")),
    ),
)
