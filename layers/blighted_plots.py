"""Derelict plots: vacant lots, ruins and dumping sites the office wants cleared or repurposed."""

from layers.spec import Attribute, Layer, choices, tr

KIND = choices(
    ("vacant_lot", tr("Vacant lot", "زمین بایر", "أرض فضاء", "Κενό οικόπεδο", fr="Terrain vague")),
    (
        "ruined_building",
        tr("Ruined building", "بنای مخروبه", "مبنى متهدم", "Ερειπωμένο κτίριο", fr="Bâtiment en ruine"),
    ),
    ("dumping_site", tr("Dumping site", "محل تخلیه زباله", "مكب نفايات", "Χωματερή", fr="Dépôt sauvage")),
    ("hazard", tr("Hazard", "نقطه خطر", "خطر", "Κίνδυνος", fr="Site dangereux")),
)
HAZARD = choices(
    ("low", tr("Low", "کم", "منخفض", "Χαμηλός", fr="Faible"), "#fff176"),
    ("medium", tr("Medium", "متوسط", "متوسط", "Μέτριος", fr="Moyen"), "#ffb74d"),
    ("high", tr("High", "زیاد", "مرتفع", "Υψηλός", fr="Élevé"), "#e57373"),
    ("critical", tr("Critical", "بحرانی", "حرج", "Κρίσιμος", fr="Critique"), "#b71c1c"),
)
SAFETY = choices(
    ("crime", tr("Crime / insecurity", "ناامنی", "جريمة", "Εγκληματικότητα", fr="Délinquance / insécurité")),
    ("drug_use", tr("Drug use", "مصرف مواد", "تعاطي المخدرات", "Χρήση ουσιών", fr="Consommation de drogues")),
    (
        "collapse",
        tr("Risk of collapse", "خطر ریزش", "خطر الانهيار", "Κίνδυνος κατάρρευσης", fr="Risque d'effondrement"),
    ),
    ("fire", tr("Fire risk", "خطر آتش‌سوزی", "خطر الحريق", "Κίνδυνος πυρκαγιάς", fr="Risque d'incendie")),
    ("waste", tr("Waste", "زباله", "نفايات", "Απορρίμματα", fr="Déchets")),
    ("flooding", tr("Flooding", "آب‌گرفتگی", "فيضان", "Πλημμύρα", fr="Inondation")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre")),
)
STATUS = choices(
    ("identified", tr("Identified", "شناسایی‌شده", "محدد", "Εντοπίστηκε", fr="Repérée"), "#c62828"),
    ("secured", tr("Secured", "ایمن‌سازی‌شده", "مؤمّن", "Ασφαλίστηκε", fr="Sécurisée"), "#f9a825"),
    ("cleared", tr("Cleared", "پاک‌سازی‌شده", "أزيل", "Καθαρίστηκε", fr="Nettoyée"), "#2e7d32"),
    (
        "repurposed",
        tr("Repurposed", "بازآفرینی‌شده", "أعيد توظيفه", "Επαναχρησιμοποιήθηκε", fr="Reconvertie"),
        "#1565c0",
    ),
)

LAYER = Layer(
    name="blighted_plots",
    title=tr(
        "Blighted plots", "فضاهای بی‌دفاع و مخروبه", "المواقع المتدهورة", "Εγκαταλελειμμένα οικόπεδα", fr="Friches"
    ),
    description=tr(
        "Vacant lots, ruined buildings, dumping sites and hazards.",
        "زمین‌های بایر، بناهای مخروبه، محل‌های تخلیه زباله و نقاط خطر",
        "أراضٍ فضاء ومبانٍ متهدمة ومكبات نفايات ومواقع خطرة",
        "Κενά οικόπεδα, ερειπωμένα κτίρια, χωματερές και επικίνδυνα σημεία",
        fr="Terrains vagues, bâtiments en ruine, dépôts sauvages et sites dangereux.",
    ),
    geometry_type="MultiPolygon",
    measure="area",
    key_attribute="status",
    attributes=(
        Attribute("kind", "choice", tr("Kind", "نوع", "النوع", "Είδος", fr="Type"), required=True, choices=KIND),
        Attribute(
            "hazard_level",
            "choice",
            tr("Hazard level", "سطح خطر", "مستوى الخطر", "Επίπεδο κινδύνου", fr="Niveau de danger"),
            required=True,
            choices=HAZARD,
            default="medium",
        ),
        Attribute(
            "safety_issues",
            "choices",
            tr("Safety issues", "مسائل ایمنی", "قضايا السلامة", "Ζητήματα", fr="Problèmes de sécurité"),
            choices=SAFETY,
        ),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση", fr="Statut"),
            required=True,
            choices=STATUS,
            fixed=True,  # a lifecycle the code follows: translated, never extended
            default="identified",
        ),
        Attribute("owner", "text", tr("Owner", "مالک", "المالك", "Ιδιοκτήτης", fr="Propriétaire"), max_length=200),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque")),
    ),
    field_editable=("status",),
)
