"""What field staff and residents report from a place; the client's UUID (``uid``) makes re-sent syncs safe."""

from layers.spec import Attribute, Layer, choices, tr

CATEGORY = choices(
    ("damage", tr("Damage", "خرابی", "ضرر", "Ζημιά", fr="Dégradation")),
    ("hazard", tr("Hazard", "خطر", "خطر", "Κίνδυνος", fr="Danger")),
    ("waste", tr("Waste / dumping", "زباله", "نفايات", "Απορρίμματα", fr="Déchets / dépôt sauvage")),
    (
        "lighting_fault",
        tr("Light not working", "خرابی روشنایی", "عطل إنارة", "Βλάβη φωτισμού", fr="Éclairage en panne"),
    ),
    ("pollution", tr("Pollution", "آلودگی", "تلوث", "Ρύπανση", fr="Pollution")),
    (
        "new_feature",
        tr("New feature to map", "عارضه جدید", "معلم جديد", "Νέο στοιχείο", fr="Nouvel élément à cartographier"),
    ),
    ("correction", tr("Correction", "اصلاح", "تصحيح", "Διόρθωση", fr="Correction")),
    ("social_need", tr("Social need", "نیاز اجتماعی", "حاجة اجتماعية", "Κοινωνική ανάγκη", fr="Besoin social")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre")),
)
REVIEW = choices(
    ("new", tr("New", "جدید", "جديد", "Νέα", fr="Nouvelle"), "#e53935"),
    ("accepted", tr("Accepted", "پذیرفته", "مقبول", "Αποδεκτή", fr="Acceptée"), "#43a047"),
    ("rejected", tr("Rejected", "ردشده", "مرفوض", "Απορρίφθηκε", fr="Rejetée"), "#757575"),
    ("converted", tr("Acted on", "اقدام‌شده", "نُفّذ", "Υλοποιήθηκε", fr="Traitée"), "#1e88e5"),
)
BECAME = choices(
    ("feature", tr("A feature", "عارضه", "معلم", "Στοιχείο", fr="Un objet")),
    ("intervention", tr("An intervention", "اقدام", "تدخل", "Παρέμβαση", fr="Une intervention")),
    ("task", tr("A task", "وظیفه", "مهمة", "Εργασία", fr="Une tâche")),
)

LAYER = Layer(
    name="observations",
    title=tr(
        "Field observations",
        "گزارش‌های میدانی",
        "الملاحظات الميدانية",
        "Παρατηρήσεις πεδίου",
        fr="Observations de terrain",
    ),
    description=tr(
        "Reports from the field, with GPS point, photos and review status.",
        "گزارش‌های میدانی با موقعیت، عکس و وضعیت بررسی",
        "بلاغات من الميدان مع نقطة GPS وصور وحالة المراجعة",
        "Αναφορές από το πεδίο με σημείο GPS, φωτογραφίες και κατάσταση ελέγχου",
        fr="Signalements de terrain, avec point GPS, photos et état de l'examen.",
    ),
    geometry_type="Point",
    kind="planning",
    key_attribute="review_status",
    date_attribute="captured_at",
    attributes=(
        Attribute(
            "category",
            "choice",
            tr("Category", "دسته", "الفئة", "Κατηγορία", fr="Catégorie"),
            required=True,
            choices=CATEGORY,
        ),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque")),
        Attribute(
            "accuracy_m",
            "number",
            tr("GPS accuracy", "دقت موقعیت", "دقة الموقع", "Ακρίβεια GPS", fr="Précision GPS"),
            unit="m",
            minimum=0,
        ),
        Attribute(
            "captured_at",
            "datetime",
            tr("Captured at", "زمان ثبت", "وقت الالتقاط", "Καταγραφή", fr="Relevé le"),
            required=True,
        ),
        Attribute(
            "observer", "text", tr("Observer", "گزارشگر", "المُبلّغ", "Παρατηρητής", fr="Observateur"), max_length=200
        ),
        Attribute(
            "review_status",
            "choice",
            tr("Review", "وضعیت بررسی", "المراجعة", "Έλεγχος", fr="Examen"),
            required=True,
            choices=REVIEW,
            fixed=True,  # a lifecycle the code follows: translated, never extended
            default="new",
        ),
        Attribute(
            "review_note",
            "text",
            tr("Review note", "یادداشت بررسی", "ملاحظة المراجعة", "Σημείωση ελέγχου", fr="Remarque d'examen"),
            max_length=2000,
        ),
        Attribute("became_kind", "choice", tr("Became", "تبدیل به", "أصبح", "Έγινε", fr="Devenue"), choices=BECAME),
        Attribute(
            "became_layer",
            "text",
            tr("Became: layer", "لایه", "الطبقة", "Επίπεδο", fr="Devenue : couche"),
            max_length=48,
        ),
        Attribute(
            "became_id",
            "integer",
            tr("Became: id", "شناسه", "المعرّف", "Αναγνωριστικό", fr="Devenue : identifiant"),
            minimum=1,
        ),
    ),
)
