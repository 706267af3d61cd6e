"""Workshops, above all the polluting scrap and metal yards the office warns, seals or relocates."""

from layers.spec import Attribute, Check, Layer, choices, tr

KIND = choices(
    ("scrap", tr("Scrap yard", "ضایعات", "خردة", "Μάντρα παλιοσίδερων", fr="Casse / ferraille")),
    ("recycling", tr("Recycling", "بازیافت", "إعادة تدوير", "Ανακύκλωση", fr="Recyclage")),
    ("metal", tr("Metalwork", "فلزکاری", "أشغال معدنية", "Μεταλλουργείο", fr="Métallerie")),
    ("auto_repair", tr("Auto repair", "تعمیرگاه خودرو", "تصليح سيارات", "Συνεργείο", fr="Garage automobile")),
    ("carpentry", tr("Carpentry", "نجاری", "نجارة", "Ξυλουργείο", fr="Menuiserie")),
    ("tannery", tr("Tannery", "دباغی", "دباغة", "Βυρσοδεψείο", fr="Tannerie")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre")),
)
POLLUTANTS = choices(
    ("noise", tr("Noise", "صدا", "ضجيج", "Θόρυβος", fr="Bruit")),
    ("smoke", tr("Smoke", "دود", "دخان", "Καπνός", fr="Fumées")),
    ("dust", tr("Dust", "گرد و غبار", "غبار", "Σκόνη", fr="Poussières")),
    ("oil", tr("Oil / fuel", "روغن و سوخت", "زيوت", "Λάδια", fr="Huiles / carburants")),
    ("chemicals", tr("Chemicals", "مواد شیمیایی", "مواد كيميائية", "Χημικά", fr="Produits chimiques")),
    ("waste", tr("Waste", "پسماند", "نفايات", "Απόβλητα", fr="Déchets")),
    ("odour", tr("Odour", "بو", "روائح", "Οσμές", fr="Odeurs")),
)
LICENCE = choices(
    ("licensed", tr("Licensed", "دارای مجوز", "مرخص", "Με άδεια", fr="Autorisé")),
    ("unlicensed", tr("Unlicensed", "فاقد مجوز", "غير مرخص", "Χωρίς άδεια", fr="Sans autorisation")),
    ("expired", tr("Expired", "منقضی", "منتهية", "Ληγμένη", fr="Autorisation expirée")),
    ("unknown", tr("Unknown", "نامشخص", "غير معروف", "Άγνωστο", fr="Inconnu")),
)
STATUS = choices(
    ("active", tr("Active", "فعال", "نشط", "Ενεργό", fr="En activité"), "#c62828"),
    ("warned", tr("Warned", "اخطاریه‌دار", "منذر", "Προειδοποιήθηκε", fr="Mis en demeure"), "#fb8c00"),
    ("sealed", tr("Sealed", "پلمب‌شده", "مختوم", "Σφραγίστηκε", fr="Mis sous scellés"), "#6a1b9a"),
    ("relocated", tr("Relocated", "جابه‌جاشده", "نُقل", "Μετεγκαταστάθηκε", fr="Délocalisé"), "#2e7d32"),
    ("closed", tr("Closed", "تعطیل", "مغلق", "Έκλεισε", fr="Fermé"), "#757575"),
)

LAYER = Layer(
    name="workshops",
    title=tr("Workshops", "کارگاه‌ها", "الورش", "Εργαστήρια", fr="Ateliers polluants"),
    description=tr(
        "Workshops and yards, with what they emit and where they stand with the authorities.",
        "کارگاه‌ها و انبارهای ضایعات، آلاینده‌ها و وضعیت برخورد",
        "الورش والساحات، وما تطلقه من ملوثات، ووضعها لدى السلطات",
        "Εργαστήρια και μάντρες, οι ρύποι τους και η κατάστασή τους απέναντι στις αρχές",
        fr="Ateliers et dépôts, avec ce qu'ils rejettent et leur situation vis-à-vis des autorités.",
    ),
    geometry_type="Point",
    key_attribute="status",
    label_attribute="name",
    attributes=(
        Attribute("name", "text", tr("Name", "نام", "الاسم", "Όνομα", fr="Nom"), max_length=200),
        Attribute("kind", "choice", tr("Kind", "نوع", "النوع", "Είδος", fr="Type"), required=True, choices=KIND),
        Attribute(
            "polluting",
            "boolean",
            tr("Polluting", "آلاینده", "ملوِّث", "Ρυπογόνο", fr="Polluant"),
            required=True,
            default=False,
        ),
        Attribute(
            "pollutants",
            "choices",
            tr("Pollutants", "آلاینده‌ها", "الملوثات", "Ρύποι", fr="Polluants"),
            choices=POLLUTANTS,
        ),
        Attribute(
            "licence",
            "choice",
            tr("Licence", "مجوز", "الترخيص", "Άδεια", fr="Autorisation d'exploitation"),
            required=True,
            choices=LICENCE,
            default="unknown",
        ),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση", fr="Statut"),
            required=True,
            choices=STATUS,
            fixed=True,  # a lifecycle the code follows: translated, never extended
            default="active",
        ),
        Attribute(
            "employees", "integer", tr("Employees", "شاغلان", "العاملون", "Εργαζόμενοι", fr="Salariés"), minimum=0
        ),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque")),
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
