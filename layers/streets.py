"""Streets and alleys: class, width, surface, lighting, sidewalks."""

from layers.spec import Attribute, Layer, choices, tr

UNKNOWN = ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο"), "#9e9e9e")
STREET_CLASS = choices(
    ("primary", tr("Primary", "شریانی اصلی", "رئيسي", "Κύριος")),
    ("secondary", tr("Secondary", "شریانی فرعی", "ثانوي", "Δευτερεύων")),
    ("local", tr("Local street", "محلی", "محلي", "Τοπικός")),
    ("alley", tr("Alley", "کوچه", "زقاق", "Σοκάκι")),
    ("service", tr("Service", "سرویس", "خدمة", "Εξυπηρέτησης")),
    ("pedestrian", tr("Pedestrian / path", "پیاده‌راه", "ممر مشاة", "Πεζόδρομος")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο")),
)
SURFACE = choices(
    ("asphalt", tr("Asphalt", "آسفالت", "أسفلت", "Άσφαλτος"), "#37474f"),
    ("concrete", tr("Concrete", "بتن", "خرسانة", "Σκυρόδεμα"), "#78909c"),
    ("paving_stones", tr("Paving stones", "سنگفرش", "بلاط", "Πλακόστρωτο"), "#8d6e63"),
    ("paved", tr("Paved (type not recorded)", "پوشش‌دار (نوع نامشخص)", "مرصوف", "Στρωμένος"), "#607d8b"),
    ("gravel", tr("Gravel", "شن", "حصى", "Χαλίκι"), "#d4a373"),
    ("earth", tr("Earth", "خاکی", "ترابي", "Χωμάτινος"), "#e76f51"),
    UNKNOWN,
)
LIGHTING = choices(
    ("lit", tr("Lit", "روشن", "مضاء", "Φωτισμένος"), "#fbc02d"),
    ("partial", tr("Partly lit", "نیمه‌روشن", "مضاء جزئياً", "Μερικώς"), "#fb8c00"),
    ("unlit", tr("Unlit", "بدون روشنایی", "غير مضاء", "Αφώτιστος"), "#263238"),
    UNKNOWN,
)
SIDEWALK = choices(
    ("both", tr("Both sides", "دو طرف", "الجانبين", "Και οι δύο")),
    ("one_side", tr("One side", "یک طرف", "جانب واحد", "Μία πλευρά")),
    ("none", tr("None", "ندارد", "لا يوجد", "Κανένα")),
    UNKNOWN,
)

LAYER = Layer(
    name="streets",
    title=tr("Streets", "معابر", "الشوارع", "Δρόμοι"),
    description=tr("Streets and alleys with surface, lighting and sidewalks.", "معابر با نوع پوشش، روشنایی و پیاده‌رو"),
    geometry_type="MultiLineString",
    measure="length",
    key_attribute="surface",
    label_attribute="name",
    attributes=(
        Attribute("name", "text", tr("Name", "نام", "الاسم", "Όνομα"), max_length=200),
        Attribute("name_latin", "text", tr("Name (Latin script)", "نام لاتین", "الاسم باللاتينية"), max_length=200),
        Attribute(
            "street_class",
            "choice",
            tr("Class", "رده", "الفئة", "Κατηγορία"),
            required=True,
            choices=STREET_CLASS,
            default="local",
        ),
        Attribute("width_m", "number", tr("Width", "عرض", "العرض", "Πλάτος"), unit="m", minimum=0, maximum=200),
        Attribute(
            "surface",
            "choice",
            tr("Surface", "پوشش سطح", "السطح", "Επιφάνεια"),
            required=True,
            choices=SURFACE,
            default="unknown",
        ),
        Attribute(
            "lighting",
            "choice",
            tr("Lighting", "روشنایی", "الإنارة", "Φωτισμός"),
            required=True,
            choices=LIGHTING,
            default="unknown",
        ),
        Attribute(
            "sidewalk",
            "choice",
            tr("Sidewalk", "پیاده‌رو", "الرصيف", "Πεζοδρόμιο"),
            required=True,
            choices=SIDEWALK,
            default="unknown",
        ),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση")),
    ),
)
