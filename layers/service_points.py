"""The neighbourhood's social and public resources: mosques, schools, clinics, NGOs, bus stops …

With what they offer, for whom and how many people a week they can take, the service points are the directory of
services that recorded needs and referrals are matched against (the same categories: ``layers/services.py``).
"""

from layers.common import NAME_LATIN
from layers.services import AUDIENCE, SERVICE
from layers.spec import Attribute, Layer, choices, tr

STATUS = choices(
    ("open", tr("Open", "باز", "مفتوح", "Ανοιχτό", fr="Ouvert"), "#2e7d32"),
    (
        "temporarily_closed",
        tr("Temporarily closed", "موقتاً بسته", "مغلق مؤقتاً", "Προσωρινά κλειστό", fr="Fermé temporairement"),
        "#f9a825",
    ),
    ("closed", tr("Closed", "بسته", "مغلق", "Κλειστό", fr="Fermé"), "#c62828"),
)

CATEGORY = choices(
    ("mosque", tr("Mosque", "مسجد", "مسجد", "Τζαμί", fr="Mosquée"), "#00897b"),
    (
        "place_of_worship",
        tr("Other place of worship", "سایر اماکن مذهبی", "دار عبادة", "Χώρος λατρείας", fr="Autre lieu de culte"),
        "#4db6ac",
    ),
    ("school", tr("School", "مدرسه", "مدرسة", "Σχολείο", fr="École"), "#1e88e5"),
    ("kindergarten", tr("Kindergarten", "مهدکودک", "روضة", "Νηπιαγωγείο", fr="École maternelle"), "#64b5f6"),
    ("clinic", tr("Clinic / health centre", "درمانگاه", "عيادة", "Ιατρείο", fr="Centre de santé"), "#e53935"),
    ("hospital", tr("Hospital", "بیمارستان", "مستشفى", "Νοσοκομείο", fr="Hôpital"), "#b71c1c"),
    ("pharmacy", tr("Pharmacy", "داروخانه", "صيدلية", "Φαρμακείο", fr="Pharmacie"), "#ef9a9a"),
    ("ngo", tr("NGO", "سازمان مردم‌نهاد", "منظمة غير حكومية", "ΜΚΟ", fr="ONG"), "#8e24aa"),
    ("charity", tr("Charity", "خیریه", "جمعية خيرية", "Φιλανθρωπία", fr="Association caritative"), "#ba68c8"),
    ("library", tr("Library", "کتابخانه", "مكتبة", "Βιβλιοθήκη", fr="Bibliothèque"), "#5e35b1"),
    ("sports", tr("Sports", "ورزشی", "رياضة", "Αθλητισμός", fr="Équipement sportif"), "#43a047"),
    (
        "community_centre",
        tr("Community centre", "سرای محله", "مركز مجتمعي", "Κοινοτικό κέντρο", fr="Maison de quartier"),
        "#fb8c00",
    ),
    ("police", tr("Police", "پلیس", "شرطة", "Αστυνομία", fr="Police"), "#283593"),
    ("fire_station", tr("Fire station", "آتش‌نشانی", "إطفاء", "Πυροσβεστική", fr="Caserne de pompiers"), "#d84315"),
    ("bus_stop", tr("Bus stop", "ایستگاه اتوبوس", "موقف حافلات", "Στάση λεωφορείου", fr="Arrêt de bus"), "#546e7a"),
    ("market", tr("Market / shop", "بازار و فروشگاه", "سوق", "Αγορά", fr="Marché / commerce"), "#f9a825"),
    ("bank", tr("Bank", "بانک", "مصرف", "Τράπεζα", fr="Banque"), "#6d4c41"),
    (
        "government",
        tr("Public office", "اداره دولتی", "مكتب حكومي", "Δημόσια υπηρεσία", fr="Administration publique"),
        "#37474f",
    ),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre"), "#9e9e9e"),
)

LAYER = Layer(
    name="service_points",
    title=tr("Service points", "خدمات و منابع محله", "نقاط الخدمات", "Σημεία εξυπηρέτησης", fr="Points de service"),
    description=tr(
        "Social and public resources: places of worship, schools, clinics, NGOs, stops, markets.",
        "منابع اجتماعی و خدمات عمومی محله",
        "الموارد الاجتماعية والعامة: دور العبادة والمدارس والعيادات والمنظمات غير الحكومية والمواقف والأسواق",
        "Κοινωνικοί και δημόσιοι πόροι: χώροι λατρείας, σχολεία, ιατρεία, ΜΚΟ, στάσεις, αγορές",
        fr="Ressources sociales et publiques : lieux de culte, écoles, centres de santé, ONG, arrêts, marchés.",
    ),
    geometry_type="Point",
    key_attribute="category",
    label_attribute="name",
    attributes=(
        Attribute("name", "text", tr("Name", "نام", "الاسم", "Όνομα", fr="Nom"), max_length=200),
        NAME_LATIN,
        Attribute(
            "category",
            "choice",
            tr("Category", "دسته", "الفئة", "Κατηγορία", fr="Catégorie"),
            required=True,
            choices=CATEGORY,
        ),
        Attribute(
            "provider",
            "text",
            tr("Provider", "ارائه‌دهنده", "الجهة المقدمة", "Πάροχος", fr="Gestionnaire"),
            max_length=200,
        ),
        Attribute("services", "text", tr("Services", "خدمات", "الخدمات", "Υπηρεσίες", fr="Services")),
        Attribute(
            "offers", "choices", tr("Offers", "خدمات قابل ارائه", "يقدّم", "Προσφέρει", fr="Propose"), choices=SERVICE
        ),
        Attribute(
            "audience", "choices", tr("For whom", "برای چه کسانی", "لمن", "Για ποιους", fr="Pour qui"), choices=AUDIENCE
        ),
        Attribute(
            "capacity",
            "integer",
            tr(
                "Capacity (people a week)",
                "ظرفیت (نفر در هفته)",
                "السعة (أشخاص أسبوعياً)",
                "Δυναμικότητα (άτομα την εβδομάδα)",
                fr="Capacité (personnes par semaine)",
            ),
            minimum=0,
            unit="people/week",
        ),  # fmt: skip
        Attribute("contact", "text", tr("Contact", "تماس", "الاتصال", "Επικοινωνία", fr="Contact"), max_length=200),
        Attribute(
            "opening_hours",
            "text",
            tr("Opening hours", "ساعات کار", "ساعات العمل", "Ωράριο", fr="Horaires d'ouverture"),
            max_length=200,
            help=tr(
                "OpenStreetMap syntax, e.g. Mo-Fr 08:00-16:00",
                "قالب OpenStreetMap، مثلاً Mo-Fr 08:00-16:00",
                "بصيغة OpenStreetMap، مثل Mo-Fr 08:00-16:00",
                "Σύνταξη OpenStreetMap, π.χ. Mo-Fr 08:00-16:00",
                fr="Syntaxe OpenStreetMap, p. ex. Mo-Fr 08:00-16:00",
            ),
        ),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση", fr="Statut"),
            choices=STATUS,
            help=tr(
                "As a field worker found it last",
                "آن‌گونه که کارشناس میدانی آخرین بار دیده است",
                "كما وجدها العامل الميداني آخر مرة",
                "Όπως το βρήκε τελευταία φορά εργαζόμενος πεδίου",
                fr="Tel que constaté sur le terrain",
            ),
        ),
    ),
    field_editable=("status", "opening_hours"),
)
