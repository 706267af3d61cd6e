"""Planned physical works: paving, lighting, parks, signage, clearing lots, sealing workshops …

The lifecycle, units, quantities and the effects of completion on targets are planning rules in the
database (layers/sql/planning_rules.sql, docs/planning.md); here is what every row must hold.
"""

from layers.spec import Attribute, Check, Layer, choices, tr
from layers.streets import SURFACE

KIND = choices(
    ("paving", tr("Street paving", "آسفالت و سنگفرش معابر", "رصف الشوارع", "Ασφαλτόστρωση", fr="Revêtement des rues")),
    ("sidewalk", tr("Sidewalk", "پیاده‌رو‌سازی", "أرصفة", "Πεζοδρόμια", fr="Trottoirs")),
    ("lighting", tr("Street lighting", "روشنایی معابر", "إنارة الشوارع", "Φωτισμός", fr="Éclairage public")),
    ("park", tr("Park / green space", "پارک و فضای سبز", "حديقة", "Πάρκο", fr="Parc / espace vert")),
    ("signage", tr("Street-name signs", "تابلوی نام معابر", "لافتات", "Πινακίδες", fr="Plaques de rue")),
    ("speed_bump", tr("Speed bumps", "سرعت‌گیر", "مطبات", "Σαμαράκια", fr="Ralentisseurs")),
    ("tree_planting", tr("Tree planting", "درختکاری", "تشجير", "Δενδροφύτευση", fr="Plantation d'arbres")),
    (
        "lot_clearing",
        tr(
            "Clearing derelict lots", "پاک‌سازی فضاهای بی‌دفاع", "تنظيف الأراضي", "Καθαρισμός", fr="Nettoyage des friches"
        ),
    ),
    (
        "workshop_sealing",
        tr(
            "Sealing polluting workshops",
            "پلمب کارگاه‌های آلاینده",
            "إغلاق الورش الملوثة",
            "Σφράγιση εργαστηρίων",
            fr="Mise sous scellés d'ateliers polluants",
        ),
    ),
    ("drainage", tr("Drainage", "دفع آب‌های سطحی", "تصريف المياه", "Αποχέτευση", fr="Évacuation des eaux pluviales")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre")),
)
STATUS = choices(
    ("proposed", tr("Proposed", "پیشنهادی", "مقترح", "Προτεινόμενη", fr="Proposée"), "#90a4ae"),
    ("approved", tr("Approved", "مصوب", "معتمد", "Εγκρίθηκε", fr="Approuvée"), "#42a5f5"),
    ("funded", tr("Funded", "تأمین اعتبار", "ممول", "Χρηματοδοτήθηκε", fr="Financée"), "#7e57c2"),
    ("in_progress", tr("In progress", "در حال اجرا", "قيد التنفيذ", "Σε εξέλιξη", fr="En cours"), "#ffa726"),
    ("completed", tr("Completed", "تکمیل‌شده", "مكتمل", "Ολοκληρώθηκε", fr="Achevée"), "#2e7d32"),
    ("cancelled", tr("Cancelled", "لغوشده", "ملغى", "Ακυρώθηκε", fr="Annulée"), "#b71c1c"),
)
# What a paving intervention lays: the paved surfaces of the streets layer (completion sets them).
PAVING_SURFACE = tuple(c for c in SURFACE if c.value in ("asphalt", "concrete", "paving_stones", "paved"))
UNIT = choices(
    ("m2", tr("m²", "متر مربع", "م²", "m²", fr="m²")),
    ("m", tr("m", "متر", "م", "m", fr="m")),
    ("count", tr("count", "عدد", "عدد", "τεμ.", fr="unités")),
)

LAYER = Layer(
    name="interventions",
    title=tr("Interventions", "اقدامات", "التدخلات", "Παρεμβάσεις", fr="Interventions"),
    description=tr(
        "Physical works planned and carried out in the neighbourhood.",
        "پروژه‌ها و اقدامات کالبدی محله",
        "الأشغال المادية المخططة والمنفذة في الحي",
        "Τεχνικά έργα που σχεδιάζονται και εκτελούνται στη γειτονιά",
        fr="Travaux d'aménagement prévus et réalisés dans le quartier.",
    ),
    geometry_type="Geometry",
    measure="both",
    kind="planning",
    key_attribute="status",
    label_attribute="title",
    date_attribute="actual_end",
    attributes=(
        Attribute(
            "title", "text", tr("Title", "عنوان", "العنوان", "Τίτλος", fr="Intitulé"), required=True, max_length=300
        ),
        Attribute("kind", "choice", tr("Kind", "نوع اقدام", "النوع", "Είδος", fr="Type"), required=True, choices=KIND),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση", fr="Statut"),
            required=True,
            choices=STATUS,
            fixed=True,  # a lifecycle the code follows: translated, never extended
            default="proposed",
        ),
        Attribute("unit", "choice", tr("Unit", "واحد", "الوحدة", "Μονάδα", fr="Unité"), choices=UNIT),
        Attribute(
            "planned_quantity",
            "number",
            tr("Planned quantity", "مقدار برنامه", "الكمية المخططة", "Προγραμματισμένη ποσότητα", fr="Quantité prévue"),
            minimum=0,
        ),
        Attribute(
            "achieved_quantity",
            "number",
            tr("Achieved quantity", "مقدار محقق", "الكمية المنجزة", "Επιτευχθείσα ποσότητα", fr="Quantité réalisée"),
            minimum=0,
        ),
        Attribute(
            "quantity_note",
            "text",
            tr(
                "Why the quantity differs from the map",
                "دلیل تغییر مقدار",
                "سبب تعديل الكمية",
                "Αιτιολόγηση ποσότητας",
                fr="Pourquoi la quantité diffère de la carte",
            ),
        ),
        Attribute(
            "planned_cost",
            "number",
            tr("Planned cost", "هزینه برآوردی", "التكلفة المخططة", "Προϋπολογισμός", fr="Coût prévu"),
            minimum=0,
        ),
        Attribute(
            "actual_cost",
            "number",
            tr("Actual cost", "هزینه واقعی", "التكلفة الفعلية", "Πραγματικό κόστος", fr="Coût réel"),
            minimum=0,
        ),
        Attribute("currency", "text", tr("Currency", "واحد پول", "العملة", "Νόμισμα", fr="Devise"), max_length=3),
        Attribute(
            "funding_source",
            "text",
            tr("Funding source", "منبع اعتبار", "مصدر التمويل", "Χρηματοδότηση", fr="Source de financement"),
            max_length=200,
        ),
        Attribute(
            "agency",
            "text",
            tr("Agency", "دستگاه مسئول", "الجهة المنفذة", "Φορέας", fr="Organisme responsable"),
            max_length=200,
        ),
        Attribute(
            "contractor", "text", tr("Contractor", "پیمانکار", "المقاول", "Ανάδοχος", fr="Entreprise"), max_length=200
        ),
        Attribute(
            "planned_start",
            "date",
            tr("Planned start", "شروع برنامه", "البدء المخطط", "Έναρξη (σχέδιο)", fr="Début prévu"),
        ),
        Attribute(
            "planned_end",
            "date",
            tr("Planned end", "پایان برنامه", "الانتهاء المخطط", "Λήξη (σχέδιο)", fr="Fin prévue"),
        ),
        Attribute("actual_start", "date", tr("Actual start", "شروع واقعی", "البدء الفعلي", "Έναρξη", fr="Début réel")),
        Attribute("actual_end", "date", tr("Actual end", "پایان واقعی", "الانتهاء الفعلي", "Λήξη", fr="Fin réelle")),
        Attribute("description", "text", tr("Description", "شرح", "الوصف", "Περιγραφή", fr="Description")),
        # Added by migration 0002 (planning rules): see docs/planning.md.
        Attribute(
            "status_reason",
            "text",
            tr(
                "Reason for the status",
                "دلیل تغییر وضعیت",
                "سبب تغيير الحالة",
                "Αιτιολόγηση κατάστασης",
                fr="Motif du statut",
            ),
            max_length=1000,
            help=tr(
                "Needed to reopen a completed intervention or revive a cancelled one.",
                "برای بازگشایی اقدام تکمیل‌شده یا احیای اقدام لغوشده لازم است.",
                "مطلوب لإعادة فتح تدخل مكتمل أو إحياء تدخل ملغى.",
                "Απαιτείται για να ξανανοίξει μια ολοκληρωμένη παρέμβαση ή να αναβιώσει μια ακυρωμένη.",
                fr="Obligatoire pour rouvrir une intervention achevée ou relancer une intervention annulée.",
            ),
        ),
        Attribute(
            "paving_surface",
            "choice",
            tr("Surface laid", "نوع پوشش اجراشده", "نوع الرصف", "Επιφάνεια", fr="Revêtement posé"),
            choices=PAVING_SURFACE,
            help=tr(
                "Paving: the surface its streets get when it is completed (default: paved).",
                "آسفالت و سنگفرش: پوششی که معابر هدف پس از تکمیل می‌گیرند.",
                "الرصف: السطح الذي تحصل عليه شوارعه عند اكتماله (الافتراضي: مرصوف).",
                "Ασφαλτόστρωση: η επιφάνεια που παίρνουν οι δρόμοι της όταν ολοκληρωθεί (προεπιλογή: στρωμένος).",
                fr="Revêtement des rues : le revêtement que reçoivent ses rues une fois l'intervention achevée "
                "(par défaut : revêtu).",
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
