"""Land parcels and buildings: use, tenure and building status."""

from layers.spec import Attribute, Layer, choices, tr

LAND_USE = choices(
    ("residential", tr("Residential", "مسکونی", "سكني", "Κατοικία"), "#f2c572"),
    ("commercial", tr("Commercial", "تجاری", "تجاري", "Εμπορική"), "#e8796b"),
    ("mixed", tr("Mixed use", "مختلط", "مختلط", "Μικτή"), "#d9a0c6"),
    ("industrial", tr("Industrial", "صنعتی", "صناعي", "Βιομηχανική"), "#a58bd1"),
    ("public", tr("Public facility", "عمومی", "مرفق عام", "Δημόσια"), "#7fa7d9"),
    ("religious", tr("Religious", "مذهبی", "ديني", "Θρησκευτική"), "#9bc4c4"),
    ("park", tr("Park / green space", "فضای سبز", "حديقة", "Πάρκο"), "#7cc47c"),
    ("vacant", tr("Vacant", "بایر", "شاغر", "Κενό"), "#cccccc"),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο"), "#b0a58f"),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο"), "#eeeeee"),
)
TENURE = choices(
    ("registered_deed", tr("Registered deed", "سند رسمی", "سند مسجل", "Καταχωρισμένος τίτλος"), "#2e7d32"),
    ("customary_deed", tr("Customary deed", "سند عادی (قولنامه‌ای)", "سند عرفي", "Άτυπος τίτλος"), "#f9a825"),
    ("informal", tr("Informal", "غیررسمی", "غير رسمي", "Άτυπη"), "#c62828"),
    ("public", tr("Public land", "زمین عمومی", "أرض عامة", "Δημόσια γη"), "#1565c0"),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο"), "#9e9e9e"),
)
BUILDING_STATUS = choices(
    ("none", tr("No building", "بدون بنا", "بدون مبنى", "Χωρίς κτίριο")),
    ("good", tr("Good", "خوب", "جيد", "Καλή")),
    ("fair", tr("Fair", "متوسط", "متوسط", "Μέτρια")),
    ("poor", tr("Poor", "فرسوده", "سيئ", "Κακή")),
    ("ruined", tr("Ruined", "مخروبه", "متهدم", "Ερειπωμένο")),
    ("under_construction", tr("Under construction", "در حال ساخت", "قيد الإنشاء", "Υπό κατασκευή")),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο")),
)
PERMIT = choices(
    ("permitted", tr("Permitted", "دارای پروانه", "مرخص", "Με άδεια")),
    ("unpermitted", tr("No permit", "فاقد پروانه", "غير مرخص", "Χωρίς άδεια")),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο")),
)

LAYER = Layer(
    name="parcels",
    title=tr("Parcels", "قطعات", "قطع الأراضي", "Αγροτεμάχια"),
    description=tr(
        "Land parcels and buildings with land use, tenure and building status.",
        "قطعات زمین و ساختمان‌ها با کاربری، وضعیت مالکیت و وضعیت بنا",
    ),
    geometry_type="MultiPolygon",
    measure="area",
    key_attribute="tenure",
    label_attribute="parcel_code",
    attributes=(
        Attribute("parcel_code", "text", tr("Parcel code", "کد قطعه", "رمز القطعة", "Κωδικός"), max_length=60),
        Attribute(
            "land_use",
            "choice",
            tr("Land use", "کاربری", "استخدام الأرض", "Χρήση γης"),
            required=True,
            choices=LAND_USE,
            default="unknown",
        ),
        Attribute(
            "tenure",
            "choice",
            tr("Tenure", "وضعیت مالکیت", "الحيازة", "Ιδιοκτησία"),
            required=True,
            choices=TENURE,
            default="unknown",
        ),
        Attribute(
            "building_status",
            "choice",
            tr("Building status", "وضعیت بنا", "حالة المبنى", "Κατάσταση"),
            required=True,
            choices=BUILDING_STATUS,
            default="unknown",
        ),
        Attribute(
            "permit",
            "choice",
            tr("Building permit", "پروانه ساخت", "رخصة البناء", "Άδεια"),
            required=True,
            choices=PERMIT,
            default="unknown",
        ),
        Attribute("floors", "integer", tr("Floors", "تعداد طبقات", "الطوابق", "Όροφοι"), minimum=0, maximum=200),
        Attribute("address", "text", tr("Address", "نشانی", "العنوان", "Διεύθυνση"), max_length=300),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση")),
    ),
)
