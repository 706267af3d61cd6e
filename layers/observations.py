"""What field staff and residents report from a place; the client's UUID (``uid``) makes re-sent syncs safe."""

from layers.spec import Attribute, Layer, choices, tr

CATEGORY = choices(
    ("damage", tr("Damage", "خرابی", "ضرر", "Ζημιά")),
    ("hazard", tr("Hazard", "خطر", "خطر", "Κίνδυνος")),
    ("waste", tr("Waste / dumping", "زباله", "نفايات", "Απορρίμματα")),
    ("lighting_fault", tr("Light not working", "خرابی روشنایی", "عطل إنارة", "Βλάβη φωτισμού")),
    ("pollution", tr("Pollution", "آلودگی", "تلوث", "Ρύπανση")),
    ("new_feature", tr("New feature to map", "عارضه جدید", "معلم جديد", "Νέο στοιχείο")),
    ("correction", tr("Correction", "اصلاح", "تصحيح", "Διόρθωση")),
    ("social_need", tr("Social need", "نیاز اجتماعی", "حاجة اجتماعية", "Κοινωνική ανάγκη")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο")),
)
REVIEW = choices(
    ("new", tr("New", "جدید", "جديد", "Νέα"), "#e53935"),
    ("accepted", tr("Accepted", "پذیرفته", "مقبول", "Αποδεκτή"), "#43a047"),
    ("rejected", tr("Rejected", "ردشده", "مرفوض", "Απορρίφθηκε"), "#757575"),
    ("converted", tr("Acted on", "اقدام‌شده", "نُفّذ", "Υλοποιήθηκε"), "#1e88e5"),
)
BECAME = choices(
    ("feature", tr("A feature", "عارضه", "معلم", "Στοιχείο")),
    ("intervention", tr("An intervention", "اقدام", "تدخل", "Παρέμβαση")),
    ("task", tr("A task", "وظیفه", "مهمة", "Εργασία")),
)

LAYER = Layer(
    name="observations",
    title=tr("Field observations", "گزارش‌های میدانی", "الملاحظات الميدانية", "Παρατηρήσεις πεδίου"),
    description=tr(
        "Reports from the field, with GPS point, photos and review status.",
        "گزارش‌های میدانی با موقعیت، عکس و وضعیت بررسی",
    ),
    geometry_type="Point",
    kind="planning",
    key_attribute="review_status",
    date_attribute="captured_at",
    attributes=(
        Attribute("category", "choice", tr("Category", "دسته", "الفئة", "Κατηγορία"), required=True, choices=CATEGORY),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση")),
        Attribute(
            "accuracy_m", "number", tr("GPS accuracy", "دقت موقعیت", "دقة الموقع", "Ακρίβεια GPS"), unit="m", minimum=0
        ),
        Attribute("captured_at", "datetime", tr("Captured at", "زمان ثبت", "وقت الالتقاط", "Καταγραφή"), required=True),
        Attribute("observer", "text", tr("Observer", "گزارشگر", "المُبلّغ", "Παρατηρητής"), max_length=200),
        Attribute(
            "review_status",
            "choice",
            tr("Review", "وضعیت بررسی", "المراجعة", "Έλεγχος"),
            required=True,
            choices=REVIEW,
            default="new",
        ),
        Attribute(
            "review_note",
            "text",
            tr("Review note", "یادداشت بررسی", "ملاحظة المراجعة", "Σημείωση ελέγχου"),
            max_length=2000,
        ),
        Attribute("became_kind", "choice", tr("Became", "تبدیل به", "أصبح", "Έγινε"), choices=BECAME),
        Attribute("became_layer", "text", tr("Became: layer", "لایه", "الطبقة", "Επίπεδο"), max_length=48),
        Attribute("became_id", "integer", tr("Became: id", "شناسه", "المعرّف", "Αναγνωριστικό"), minimum=1),
    ),
)
