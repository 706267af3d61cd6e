"""The neighbourhood's social and public resources: mosques, schools, clinics, NGOs, bus stops …

With what they offer, for whom and how many people a week they can take, the service points are the directory of
services that recorded needs and referrals are matched against (the same categories: ``layers/services.py``).
"""

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
    ("mosque", tr("Mosque", "مسجد", "مسجد", "Τζαμί"), "#00897b"),
    ("place_of_worship", tr("Other place of worship", "سایر اماکن مذهبی", "دار عبادة", "Χώρος λατρείας"), "#4db6ac"),
    ("school", tr("School", "مدرسه", "مدرسة", "Σχολείο"), "#1e88e5"),
    ("kindergarten", tr("Kindergarten", "مهدکودک", "روضة", "Νηπιαγωγείο"), "#64b5f6"),
    ("clinic", tr("Clinic / health centre", "درمانگاه", "عيادة", "Ιατρείο"), "#e53935"),
    ("hospital", tr("Hospital", "بیمارستان", "مستشفى", "Νοσοκομείο"), "#b71c1c"),
    ("pharmacy", tr("Pharmacy", "داروخانه", "صيدلية", "Φαρμακείο"), "#ef9a9a"),
    ("ngo", tr("NGO", "سازمان مردم‌نهاد", "منظمة غير حكومية", "ΜΚΟ"), "#8e24aa"),
    ("charity", tr("Charity", "خیریه", "جمعية خيرية", "Φιλανθρωπία"), "#ba68c8"),
    ("library", tr("Library", "کتابخانه", "مكتبة", "Βιβλιοθήκη"), "#5e35b1"),
    ("sports", tr("Sports", "ورزشی", "رياضة", "Αθλητισμός"), "#43a047"),
    ("community_centre", tr("Community centre", "سرای محله", "مركز مجتمعي", "Κοινοτικό κέντρο"), "#fb8c00"),
    ("police", tr("Police", "پلیس", "شرطة", "Αστυνομία"), "#283593"),
    ("fire_station", tr("Fire station", "آتش‌نشانی", "إطفاء", "Πυροσβεστική"), "#d84315"),
    ("bus_stop", tr("Bus stop", "ایستگاه اتوبوس", "موقف حافلات", "Στάση λεωφορείου"), "#546e7a"),
    ("market", tr("Market / shop", "بازار و فروشگاه", "سوق", "Αγορά"), "#f9a825"),
    ("bank", tr("Bank", "بانک", "مصرف", "Τράπεζα"), "#6d4c41"),
    ("government", tr("Public office", "اداره دولتی", "مكتب حكومي", "Δημόσια υπηρεσία"), "#37474f"),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο"), "#9e9e9e"),
)

LAYER = Layer(
    name="service_points",
    title=tr("Service points", "خدمات و منابع محله", "نقاط الخدمات", "Σημεία εξυπηρέτησης"),
    description=tr(
        "Social and public resources: places of worship, schools, clinics, NGOs, stops, markets.",
        "منابع اجتماعی و خدمات عمومی محله",
    ),
    geometry_type="Point",
    key_attribute="category",
    label_attribute="name",
    attributes=(
        Attribute("name", "text", tr("Name", "نام", "الاسم", "Όνομα"), max_length=200),
        Attribute("name_latin", "text", tr("Name (Latin script)", "نام لاتین", "الاسم باللاتينية"), max_length=200),
        Attribute("category", "choice", tr("Category", "دسته", "الفئة", "Κατηγορία"), required=True, choices=CATEGORY),
        Attribute("provider", "text", tr("Provider", "ارائه‌دهنده", "الجهة المقدمة", "Πάροχος"), max_length=200),
        Attribute("services", "text", tr("Services", "خدمات", "الخدمات", "Υπηρεσίες")),
        Attribute("offers", "choices", tr("Offers", "خدمات قابل ارائه", "يقدّم", "Προσφέρει", fr="Propose"),
                  choices=SERVICE),
        Attribute("audience", "choices", tr("For whom", "برای چه کسانی", "لمن", "Για ποιους", fr="Pour qui"),
                  choices=AUDIENCE),
        Attribute("capacity", "integer", tr("Capacity (people a week)", "ظرفیت (نفر در هفته)", "السعة (أشخاص أسبوعياً)",
                  "Δυναμικότητα (άτομα την εβδομάδα)", fr="Capacité (personnes par semaine)"), minimum=0,
                  unit="people/week"),  # fmt: skip
        Attribute("contact", "text", tr("Contact", "تماس", "الاتصال", "Επικοινωνία"), max_length=200),
        Attribute(
            "opening_hours",
            "text",
            tr("Opening hours", "ساعات کار", "ساعات العمل", "Ωράριο"),
            max_length=200,
            help=tr("OpenStreetMap syntax, e.g. Mo-Fr 08:00-16:00"),
        ),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση", fr="Statut"),
            choices=STATUS,
            help=tr("As a field worker found it last", fr="Tel que constaté sur le terrain"),
        ),
    ),
    field_editable=("status", "opening_hours"),
)
