"""Derelict plots: vacant lots, ruins and dumping sites the office wants cleared or repurposed."""

from layers.spec import Attribute, Layer, choices, tr

KIND = choices(
    ("vacant_lot", tr("Vacant lot", "زمین بایر", "أرض فضاء", "Κενό οικόπεδο")),
    ("ruined_building", tr("Ruined building", "بنای مخروبه", "مبنى متهدم", "Ερειπωμένο κτίριο")),
    ("dumping_site", tr("Dumping site", "محل تخلیه زباله", "مكب نفايات", "Χωματερή")),
    ("hazard", tr("Hazard", "نقطه خطر", "خطر", "Κίνδυνος")),
)
HAZARD = choices(
    ("low", tr("Low", "کم", "منخفض", "Χαμηλός"), "#fff176"),
    ("medium", tr("Medium", "متوسط", "متوسط", "Μέτριος"), "#ffb74d"),
    ("high", tr("High", "زیاد", "مرتفع", "Υψηλός"), "#e57373"),
    ("critical", tr("Critical", "بحرانی", "حرج", "Κρίσιμος"), "#b71c1c"),
)
SAFETY = choices(
    ("crime", tr("Crime / insecurity", "ناامنی", "جريمة", "Εγκληματικότητα")),
    ("drug_use", tr("Drug use", "مصرف مواد", "تعاطي المخدرات", "Χρήση ουσιών")),
    ("collapse", tr("Risk of collapse", "خطر ریزش", "خطر الانهيار", "Κίνδυνος κατάρρευσης")),
    ("fire", tr("Fire risk", "خطر آتش‌سوزی", "خطر الحريق", "Κίνδυνος πυρκαγιάς")),
    ("waste", tr("Waste", "زباله", "نفايات", "Απορρίμματα")),
    ("flooding", tr("Flooding", "آب‌گرفتگی", "فيضان", "Πλημμύρα")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο")),
)
STATUS = choices(
    ("identified", tr("Identified", "شناسایی‌شده", "محدد", "Εντοπίστηκε"), "#c62828"),
    ("secured", tr("Secured", "ایمن‌سازی‌شده", "مؤمّن", "Ασφαλίστηκε"), "#f9a825"),
    ("cleared", tr("Cleared", "پاک‌سازی‌شده", "أزيل", "Καθαρίστηκε"), "#2e7d32"),
    ("repurposed", tr("Repurposed", "بازآفرینی‌شده", "أعيد توظيفه", "Επαναχρησιμοποιήθηκε"), "#1565c0"),
)

LAYER = Layer(
    name="blighted_plots",
    title=tr("Blighted plots", "فضاهای بی‌دفاع و مخروبه", "المواقع المتدهورة", "Εγκαταλελειμμένα οικόπεδα"),
    description=tr(
        "Vacant lots, ruined buildings, dumping sites and hazards.",
        "زمین‌های بایر، بناهای مخروبه، محل‌های تخلیه زباله و نقاط خطر",
    ),
    geometry_type="MultiPolygon",
    measure="area",
    key_attribute="status",
    attributes=(
        Attribute("kind", "choice", tr("Kind", "نوع", "النوع", "Είδος"), required=True, choices=KIND),
        Attribute(
            "hazard_level",
            "choice",
            tr("Hazard level", "سطح خطر", "مستوى الخطر", "Επίπεδο κινδύνου"),
            required=True,
            choices=HAZARD,
            default="medium",
        ),
        Attribute(
            "safety_issues", "choices", tr("Safety issues", "مسائل ایمنی", "قضايا السلامة", "Ζητήματα"), choices=SAFETY
        ),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση"),
            required=True,
            choices=STATUS,
            default="identified",
        ),
        Attribute("owner", "text", tr("Owner", "مالک", "المالك", "Ιδιοκτήτης"), max_length=200),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση")),
    ),
    field_editable=("status",),
)
