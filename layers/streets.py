"""Streets and alleys: class, width, surface, lighting, sidewalks."""

from layers.common import NAME_LATIN
from layers.spec import Attribute, Layer, choices, tr

UNKNOWN = ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο", fr="Inconnu"), "#9e9e9e")
STREET_CLASS = choices(
    ("primary", tr("Primary", "شریانی اصلی", "رئيسي", "Κύριος", fr="Voie principale")),
    ("secondary", tr("Secondary", "شریانی فرعی", "ثانوي", "Δευτερεύων", fr="Voie secondaire")),
    ("local", tr("Local street", "محلی", "محلي", "Τοπικός", fr="Rue de desserte")),
    ("alley", tr("Alley", "کوچه", "زقاق", "Σοκάκι", fr="Ruelle")),
    ("service", tr("Service", "سرویس", "خدمة", "Εξυπηρέτησης", fr="Voie de service")),
    ("pedestrian", tr("Pedestrian / path", "پیاده‌راه", "ممر مشاة", "Πεζόδρομος", fr="Voie piétonne / chemin")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre")),
)
SURFACE = choices(
    ("asphalt", tr("Asphalt", "آسفالت", "أسفلت", "Άσφαλτος", fr="Enrobé"), "#37474f"),
    ("concrete", tr("Concrete", "بتن", "خرسانة", "Σκυρόδεμα", fr="Béton"), "#78909c"),
    ("paving_stones", tr("Paving stones", "سنگفرش", "بلاط", "Πλακόστρωτο", fr="Pavés"), "#8d6e63"),
    (
        "paved",
        tr("Paved (type not recorded)", "پوشش‌دار (نوع نامشخص)", "مرصوف", "Στρωμένος", fr="Revêtu (type non relevé)"),
        "#607d8b",
    ),
    ("gravel", tr("Gravel", "شن", "حصى", "Χαλίκι", fr="Gravier"), "#d4a373"),
    ("earth", tr("Earth", "خاکی", "ترابي", "Χωμάτινος", fr="Terre"), "#e76f51"),
    UNKNOWN,
)
LIGHTING = choices(
    ("lit", tr("Lit", "روشن", "مضاء", "Φωτισμένος", fr="Éclairée"), "#fbc02d"),
    ("partial", tr("Partly lit", "نیمه‌روشن", "مضاء جزئياً", "Μερικώς", fr="Partiellement éclairée"), "#fb8c00"),
    ("unlit", tr("Unlit", "بدون روشنایی", "غير مضاء", "Αφώτιστος", fr="Non éclairée"), "#263238"),
    UNKNOWN,
)
SIDEWALK = choices(
    ("both", tr("Both sides", "دو طرف", "الجانبين", "Και οι δύο", fr="Des deux côtés")),
    ("one_side", tr("One side", "یک طرف", "جانب واحد", "Μία πλευρά", fr="D'un seul côté")),
    ("none", tr("None", "ندارد", "لا يوجد", "Κανένα", fr="Aucun")),
    UNKNOWN,
)

LAYER = Layer(
    name="streets",
    title=tr("Streets", "معابر", "الشوارع", "Δρόμοι", fr="Voirie"),
    description=tr(
        "Streets and alleys with surface, lighting and sidewalks.",
        "معابر با نوع پوشش، روشنایی و پیاده‌رو",
        "الشوارع والأزقة مع نوع السطح والإنارة والأرصفة",
        "Δρόμοι και σοκάκια με επιφάνεια, φωτισμό και πεζοδρόμια",
        fr="Rues et ruelles, avec revêtement, éclairage et trottoirs.",
    ),
    geometry_type="MultiLineString",
    measure="length",
    key_attribute="surface",
    label_attribute="name",
    attributes=(
        Attribute("name", "text", tr("Name", "نام", "الاسم", "Όνομα", fr="Nom"), max_length=200),
        NAME_LATIN,
        Attribute(
            "street_class",
            "choice",
            tr("Class", "رده", "الفئة", "Κατηγορία", fr="Catégorie"),
            required=True,
            choices=STREET_CLASS,
            default="local",
        ),
        Attribute(
            "width_m", "number", tr("Width", "عرض", "العرض", "Πλάτος", fr="Largeur"), unit="m", minimum=0, maximum=200
        ),
        Attribute(
            "surface",
            "choice",
            tr("Surface", "پوشش سطح", "السطح", "Επιφάνεια", fr="Revêtement"),
            required=True,
            choices=SURFACE,
            default="unknown",
        ),
        Attribute(
            "lighting",
            "choice",
            tr("Lighting", "روشنایی", "الإنارة", "Φωτισμός", fr="Éclairage"),
            required=True,
            choices=LIGHTING,
            default="unknown",
        ),
        Attribute(
            "sidewalk",
            "choice",
            tr("Sidewalk", "پیاده‌رو", "الرصيف", "Πεζοδρόμιο", fr="Trottoirs"),
            required=True,
            choices=SIDEWALK,
            default="unknown",
        ),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque")),
    ),
)
