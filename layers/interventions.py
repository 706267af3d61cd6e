"""Planned physical works: paving, lighting, parks, signage, clearing lots, sealing workshops …

The lifecycle, units, quantities and the effects of completion on targets are planning rules in the
database (layers/sql/planning_rules.sql, docs/planning.md); here is what every row must hold.
"""

from layers.spec import Attribute, Check, Layer, choices, tr
from layers.streets import SURFACE

KIND = choices(
    ("paving", tr("Street paving", "آسفالت و سنگفرش معابر", "رصف الشوارع", "Ασφαλτόστρωση")),
    ("sidewalk", tr("Sidewalk", "پیاده‌رو‌سازی", "أرصفة", "Πεζοδρόμια")),
    ("lighting", tr("Street lighting", "روشنایی معابر", "إنارة الشوارع", "Φωτισμός")),
    ("park", tr("Park / green space", "پارک و فضای سبز", "حديقة", "Πάρκο")),
    ("signage", tr("Street-name signs", "تابلوی نام معابر", "لافتات", "Πινακίδες")),
    ("speed_bump", tr("Speed bumps", "سرعت‌گیر", "مطبات", "Σαμαράκια")),
    ("tree_planting", tr("Tree planting", "درختکاری", "تشجير", "Δενδροφύτευση")),
    ("lot_clearing", tr("Clearing derelict lots", "پاک‌سازی فضاهای بی‌دفاع", "تنظيف الأراضي", "Καθαρισμός")),
    (
        "workshop_sealing",
        tr("Sealing polluting workshops", "پلمب کارگاه‌های آلاینده", "إغلاق الورش الملوثة", "Σφράγιση εργαστηρίων"),
    ),
    ("drainage", tr("Drainage", "دفع آب‌های سطحی", "تصريف المياه", "Αποχέτευση")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο")),
)
STATUS = choices(
    ("proposed", tr("Proposed", "پیشنهادی", "مقترح", "Προτεινόμενη"), "#90a4ae"),
    ("approved", tr("Approved", "مصوب", "معتمد", "Εγκρίθηκε"), "#42a5f5"),
    ("funded", tr("Funded", "تأمین اعتبار", "ممول", "Χρηματοδοτήθηκε"), "#7e57c2"),
    ("in_progress", tr("In progress", "در حال اجرا", "قيد التنفيذ", "Σε εξέλιξη"), "#ffa726"),
    ("completed", tr("Completed", "تکمیل‌شده", "مكتمل", "Ολοκληρώθηκε"), "#2e7d32"),
    ("cancelled", tr("Cancelled", "لغوشده", "ملغى", "Ακυρώθηκε"), "#b71c1c"),
)
# What a paving intervention lays: the paved surfaces of the streets layer (completion sets them).
PAVING_SURFACE = tuple(c for c in SURFACE if c.value in ("asphalt", "concrete", "paving_stones", "paved"))
UNIT = choices(
    ("m2", tr("m²", "متر مربع", "م²", "m²")),
    ("m", tr("m", "متر", "م", "m")),
    ("count", tr("count", "عدد", "عدد", "τεμ.")),
)

LAYER = Layer(
    name="interventions",
    title=tr("Interventions", "اقدامات", "التدخلات", "Παρεμβάσεις"),
    description=tr("Physical works planned and carried out in the neighbourhood.", "پروژه‌ها و اقدامات کالبدی محله"),
    geometry_type="Geometry",
    measure="both",
    kind="planning",
    key_attribute="status",
    label_attribute="title",
    date_attribute="actual_end",
    attributes=(
        Attribute("title", "text", tr("Title", "عنوان", "العنوان", "Τίτλος"), required=True, max_length=300),
        Attribute("kind", "choice", tr("Kind", "نوع اقدام", "النوع", "Είδος"), required=True, choices=KIND),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση"),
            required=True,
            choices=STATUS,
            default="proposed",
        ),
        Attribute("unit", "choice", tr("Unit", "واحد", "الوحدة", "Μονάδα"), choices=UNIT),
        Attribute(
            "planned_quantity",
            "number",
            tr("Planned quantity", "مقدار برنامه", "الكمية المخططة", "Προγραμματισμένη ποσότητα"),
            minimum=0,
        ),
        Attribute(
            "achieved_quantity",
            "number",
            tr("Achieved quantity", "مقدار محقق", "الكمية المنجزة", "Επιτευχθείσα ποσότητα"),
            minimum=0,
        ),
        Attribute(
            "quantity_note",
            "text",
            tr(
                "Why the quantity differs from the map", "دلیل تغییر مقدار", "سبب تعديل الكمية", "Αιτιολόγηση ποσότητας"
            ),
        ),
        Attribute(
            "planned_cost",
            "number",
            tr("Planned cost", "هزینه برآوردی", "التكلفة المخططة", "Προϋπολογισμός"),
            minimum=0,
        ),
        Attribute(
            "actual_cost", "number", tr("Actual cost", "هزینه واقعی", "التكلفة الفعلية", "Πραγματικό κόστος"), minimum=0
        ),
        Attribute("currency", "text", tr("Currency", "واحد پول", "العملة", "Νόμισμα"), max_length=3),
        Attribute(
            "funding_source",
            "text",
            tr("Funding source", "منبع اعتبار", "مصدر التمويل", "Χρηματοδότηση"),
            max_length=200,
        ),
        Attribute("agency", "text", tr("Agency", "دستگاه مسئول", "الجهة المنفذة", "Φορέας"), max_length=200),
        Attribute("contractor", "text", tr("Contractor", "پیمانکار", "المقاول", "Ανάδοχος"), max_length=200),
        Attribute("planned_start", "date", tr("Planned start", "شروع برنامه", "البدء المخطط", "Έναρξη (σχέδιο)")),
        Attribute("planned_end", "date", tr("Planned end", "پایان برنامه", "الانتهاء المخطط", "Λήξη (σχέδιο)")),
        Attribute("actual_start", "date", tr("Actual start", "شروع واقعی", "البدء الفعلي", "Έναρξη")),
        Attribute("actual_end", "date", tr("Actual end", "پایان واقعی", "الانتهاء الفعلي", "Λήξη")),
        Attribute("description", "text", tr("Description", "شرح", "الوصف", "Περιγραφή")),
        # Added by migration 0002 (planning rules): see docs/planning.md.
        Attribute(
            "status_reason",
            "text",
            tr("Reason for the status", "دلیل تغییر وضعیت", "سبب تغيير الحالة", "Αιτιολόγηση κατάστασης"),
            max_length=1000,
            help=tr(
                "Needed to reopen a completed intervention or revive a cancelled one.",
                "برای بازگشایی اقدام تکمیل‌شده یا احیای اقدام لغوشده لازم است.",
            ),
        ),
        Attribute(
            "paving_surface",
            "choice",
            tr("Surface laid", "نوع پوشش اجراشده", "نوع الرصف", "Επιφάνεια"),
            choices=PAVING_SURFACE,
            help=tr(
                "Paving: the surface its streets get when it is completed (default: paved).",
                "آسفالت و سنگفرش: پوششی که معابر هدف پس از تکمیل می‌گیرند.",
            ),
        ),
    ),
    checks=(
        Check(
            "planned_dates_ordered",
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            "the planned end is before the planned start",
        ),
        Check(
            "actual_dates_ordered",
            "actual_end IS NULL OR actual_start IS NULL OR actual_end >= actual_start",
            "the actual end is before the actual start",
        ),
        Check(
            "completed_has_end",
            "status <> 'completed' OR actual_end IS NOT NULL",
            "a completed intervention needs its actual end date",
        ),
    ),
)
