"""Counted outcomes of the action plan: people reached, certificates, job referrals, vouchers, sessions given …

Most of what an office reports is not physical: an output counts what a task achieved (``quantity`` of a
``kind``, on a ``date``), optionally at a place or a service point, with an optional breakdown by sex and
age band. Aggregate counts only: no names or other personal data. The database keeps the rules
(``layers/sql/outputs.sql``): the task exists and is one the writer may record outputs of, the breakdowns do
not exceed the quantity, an output without a place lies in its task's neighbourhood, and a task's progress
follows its targets (``task_targets``) as outputs are recorded.
"""

from layers.spec import Attribute, Check, Layer, choices, tr

KIND = choices(
    ("people_reached", tr("People reached", "افراد تحت پوشش", "أشخاص تم الوصول إليهم", "Άτομα που προσεγγίστηκαν",
                          fr="Personnes touchées"), "#1e88e5"),
    ("households_supported", tr("Households supported", "خانوارهای حمایت‌شده", "أسر مدعومة",
                                "Νοικοκυριά που υποστηρίχθηκαν", fr="Ménages accompagnés"), "#3949ab"),
    ("children_back_to_school", tr("Children back to school", "کودکان بازگشته به مدرسه", "أطفال عادوا إلى المدرسة",
                                   "Παιδιά που επέστρεψαν στο σχολείο", fr="Enfants rescolarisés"), "#43a047"),
    ("certificates", tr("Certificates", "گواهینامه‌ها", "شهادات", "Πιστοποιητικά", fr="Certificats"), "#7cb342"),
    ("job_referrals", tr("Job referrals", "معرفی به کار", "إحالات إلى العمل", "Παραπομπές για εργασία",
                         fr="Orientations vers l'emploi"), "#fb8c00"),
    ("hires", tr("Hires", "اشتغال", "توظيف", "Προσλήψεις", fr="Embauches"), "#f4511e"),
    ("funds_set_up", tr("Funds set up", "صندوق‌های تشکیل‌شده", "صناديق أُنشئت", "Ταμεία που συστάθηκαν",
                        fr="Fonds constitués"), "#6d4c41"),
    ("businesses_started", tr("Businesses started", "کسب‌وکارهای راه‌اندازی‌شده", "مشاريع أُطلقت",
                              "Επιχειρήσεις που ξεκίνησαν", fr="Entreprises créées"), "#8e24aa"),
    ("items_distributed", tr("Items distributed", "اقلام توزیع‌شده", "مواد وُزّعت", "Είδη που διανεμήθηκαν",
                             fr="Articles distribués"), "#00897b"),
    ("vouchers_distributed", tr("Vouchers distributed", "کارت‌های خرید توزیع‌شده", "قسائم وُزّعت",
                                "Κουπόνια που διανεμήθηκαν", fr="Bons d'achat distribués"), "#26a69a"),
    ("meetings_held", tr("Meetings held", "جلسات برگزارشده", "اجتماعات عُقدت", "Συναντήσεις που έγιναν",
                         fr="Réunions tenues"), "#5e35b1"),
    ("sessions_given", tr("Sessions given", "جلسات مشاوره و آموزش", "جلسات قُدّمت", "Συνεδρίες που δόθηκαν",
                          fr="Séances données"), "#d81b60"),
    ("referrals_made", tr("Referrals made", "ارجاع‌ها", "إحالات", "Παραπομπές",
                          fr="Orientations effectuées"), "#c0ca33"),
    ("outreach_visits", tr("Outreach visits", "بازدیدهای سیار", "زيارات ميدانية", "Επισκέψεις κινητής μονάδας",
                           fr="Visites de l'unité mobile"), "#039be5"),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre"), "#9e9e9e"),
)  # fmt: skip

COUNT = tr("Count", "تعداد", "عدد", "Αριθμός", fr="Nombre")
SEX = ("female", "male")
AGE_BANDS = ("age_0_14", "age_15_24", "age_25_64", "age_65_plus")


def _count(name: str, label: dict[str, str]) -> Attribute:
    return Attribute(name, "integer", label, minimum=0)


def _sum(names: tuple[str, ...]) -> str:
    return " + ".join(f"coalesce({n}, 0)" for n in names)


LAYER = Layer(
    name="outputs",
    title=tr(
        "Counted outcomes", "خروجی‌های شمارشی", "المخرجات المعدودة", "Μετρήσιμα αποτελέσματα", fr="Résultats chiffrés"
    ),
    description=tr(
        "What the action plan's tasks achieved, counted: people reached, certificates, job referrals, vouchers, "
        "sessions given … Aggregate counts only: never names or other personal data.",
        "آنچه وظایف برنامه عمل به دست آورده‌اند، به صورت شمارشی؛ فقط آمار کلی، بدون نام یا اطلاعات شخصی",
        "ما حققته مهام خطة العمل معدوداً؛ أعداد إجمالية فقط، دون أسماء أو بيانات شخصية",
        "Τι πέτυχαν οι εργασίες του σχεδίου δράσης, σε αριθμούς· μόνο συγκεντρωτικά, χωρίς ονόματα ή προσωπικά "
        "δεδομένα",
        fr="Ce que les tâches du plan d'action ont accompli, en chiffres : personnes touchées, certificats, "
        "orientations vers l'emploi, bons d'achat, séances données… Des chiffres globaux seulement : jamais de "
        "noms ni d'autres données personnelles.",
    ),
    geometry_type="Point",
    kind="planning",
    key_attribute="kind",
    date_attribute="date",
    geometry_required=False,  # a place, a service point's, or none (then it lies in its task's neighbourhood)
    attributes=(
        Attribute("kind", "choice", tr("Kind", "نوع", "النوع", "Είδος", fr="Type"), required=True, choices=KIND),
        Attribute(
            "quantity", "number", tr("Quantity", "مقدار", "الكمية", "Ποσότητα", fr="Quantité"), required=True, minimum=0
        ),
        Attribute("unit", "text", tr("Unit", "واحد", "الوحدة", "Μονάδα", fr="Unité"), max_length=40),
        Attribute("date", "date", tr("Date", "تاریخ", "التاريخ", "Ημερομηνία", fr="Date"), required=True),
        Attribute(
            "task_id",
            "reference",
            tr("Task", "وظیفه", "المهمة", "Εργασία", fr="Tâche"),
            required=True,
            references="tasks",
        ),
        Attribute(
            "intervention_id",
            "reference",
            tr("Intervention", "اقدام", "التدخل", "Παρέμβαση", fr="Intervention"),
            references="interventions",
        ),
        Attribute(
            "service_point_id",
            "reference",
            tr("Service point", "محل خدمت", "نقطة الخدمة", "Σημείο εξυπηρέτησης", fr="Point de service"),
            references="service_points",
        ),
        Attribute(
            "visit_id",
            "reference",
            tr("Counted from visit", "از بازدید", "من الزيارة", "Από την επίσκεψη", fr="Compté de la visite"),
            references="visits",
            help=tr(
                "Filled by the database: change the visit instead",
                "پایگاه داده پر می‌کند: به جای آن، بازدید را تغییر دهید",
                "تملؤه قاعدة البيانات: عدّل الزيارة بدلاً من ذلك",
                "Συμπληρώνεται από τη βάση δεδομένων: αλλάξτε την επίσκεψη",
                fr="Rempli par la base : modifiez la visite",
            ),
        ),
        Attribute(
            "referral_id",
            "reference",
            tr("Counted from referral", "از ارجاع", "من الإحالة", "Από την παραπομπή", fr="Compté de l'orientation"),
            references="referrals",
            help=tr(
                "Filled by the database: change the referral instead",
                "پایگاه داده پر می‌کند: به جای آن، ارجاع را تغییر دهید",
                "تملؤه قاعدة البيانات: عدّل الإحالة بدلاً من ذلك",
                "Συμπληρώνεται από τη βάση δεδομένων: αλλάξτε την παραπομπή",
                fr="Rempli par la base : modifiez l'orientation",
            ),
        ),
        _count("female", tr("Women and girls", "زن", "إناث", "Γυναίκες", fr="Femmes et filles")),
        _count("male", tr("Men and boys", "مرد", "ذكور", "Άνδρες", fr="Hommes et garçons")),
        _count("age_0_14", tr("Aged 0-14", "۰ تا ۱۴ سال", "من 0 إلى 14 سنة", "Ηλικίας 0-14", fr="0-14 ans")),
        _count("age_15_24", tr("Aged 15-24", "۱۵ تا ۲۴ سال", "من 15 إلى 24 سنة", "Ηλικίας 15-24", fr="15-24 ans")),
        _count("age_25_64", tr("Aged 25-64", "۲۵ تا ۶۴ سال", "من 25 إلى 64 سنة", "Ηλικίας 25-64", fr="25-64 ans")),
        _count(
            "age_65_plus", tr("Aged 65 and over", "۶۵ سال و بیشتر", "65 سنة فأكثر", "Ηλικίας 65+", fr="65 ans et plus")
        ),
        Attribute(
            "note",
            "text",
            tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque"),
            max_length=2000,
            help=tr(
                "No names or personal data",
                "بدون نام یا اطلاعات شخصی",
                "دون أسماء أو بيانات شخصية",
                "Χωρίς ονόματα ή προσωπικά δεδομένα",
                fr="Ni noms ni données personnelles",
            ),  # fmt: skip
        ),
    ),
    checks=(
        Check(
            "sex_within_quantity",
            f"{_sum(SEX)} <= quantity",
            "the breakdown by sex (female + male) adds up to more than the quantity",
        ),
        Check(
            "ages_within_quantity",
            f"{_sum(AGE_BANDS)} <= quantity",
            "the age bands (age_0_14 + age_15_24 + age_25_64 + age_65_plus) add up to more than the quantity",
        ),
    ),
)
