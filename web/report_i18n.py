"""Server-side translations (reports, CLI): text around the catalogue labels, numbers and dates per language.

Labels of layers, attributes and values come from the layer catalogue (``layers.spec.text_in``); this
catalogue holds only the text around them. English is the fallback for a missing translation.
Persian dates are Jalali (jdatetime); Persian and Arabic use their own digits and are right-to-left.
"""

from __future__ import annotations

from datetime import date

import jdatetime

from layers.spec import text_in

LANGUAGES = ("en", "fa", "ar")
RTL = {"fa", "ar"}
_DIGITS = {"fa": "۰۱۲۳۴۵۶۷۸۹", "ar": "٠١٢٣٤٥٦٧٨٩"}
_SEPARATORS = {"fa": ("٬", "٫"), "ar": ("٬", "٫")}  # thousands, decimal
_AR_MONTHS = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

STRINGS: dict[str, dict[str, str]] = {
    "report.title": {"en": "Achievement report", "fa": "گزارش عملکرد", "ar": "تقرير الإنجازات"},
    "report.period": {"en": "{start} to {end}", "fa": "از {start} تا {end}", "ar": "من {start} إلى {end}"},
    "report.generated": {"en": "Generated on {date}", "fa": "تاریخ تهیه: {date}", "ar": "أُعدّ في {date}"},
    "report.office": {"en": "Office", "fa": "دفتر", "ar": "المكتب"},
    "report.population": {"en": "Population", "fa": "جمعیت", "ar": "السكان"},
    "report.footer": {
        "en": "Mahalle. Figures computed from the neighbourhood database; indicators as recorded at each date.",
        "fa": "محله. ارقام از پایگاه داده محله محاسبه شده و شاخص‌ها به وضعیت ثبت‌شده در هر تاریخ است.",
        "ar": "محلة. الأرقام محسوبة من قاعدة بيانات الحي؛ المؤشرات كما سُجّلت في كل تاريخ.",
    },
    "section.achievements": {"en": "What was achieved", "fa": "آنچه انجام شد", "ar": "ما تم إنجازه"},
    "section.tasks": {
        "en": "Action plan: tasks completed",
        "fa": "برنامه عمل: وظایف انجام‌شده",
        "ar": "خطة العمل: المهام المنجزة",
    },
    "section.indicators": {"en": "How the neighbourhood changed", "fa": "تغییر شاخص‌های محله", "ar": "كيف تغيّر الحي"},
    "section.map": {
        "en": "Map of the completed interventions",
        "fa": "نقشه اقدامات تکمیل‌شده",
        "ar": "خريطة التدخلات المنجزة",
    },
    "section.interventions": {
        "en": "Completed interventions",
        "fa": "فهرست اقدامات تکمیل‌شده",
        "ar": "التدخلات المنجزة",
    },
    "none.achievements": {
        "en": "No intervention was completed in this period.",
        "fa": "در این بازه اقدامی تکمیل نشده است.",
        "ar": "لم يكتمل أي تدخل في هذه الفترة.",
    },
    "none.tasks": {
        "en": "No task was completed in this period.",
        "fa": "در این بازه وظیفه‌ای انجام نشده است.",
        "ar": "لم تُنجز أي مهمة في هذه الفترة.",
    },
    "line.targets": {
        "en": "{kind}: {quantity} {unit} on {targets}",
        "fa": "{kind}: {quantity} {unit} در {targets}",
        "ar": "{kind}: {quantity} {unit} في {targets}",
    },
    "line.plain": {
        "en": "{kind}: {quantity} {unit}",
        "fa": "{kind}: {quantity} {unit}",
        "ar": "{kind}: {quantity} {unit}",
    },
    "line.count": {"en": "{kind}: {quantity}", "fa": "{kind}: {quantity}", "ar": "{kind}: {quantity}"},
    "line.light_points": {"en": "{n} light points", "fa": "{n} چراغ", "ar": "{n} نقطة إنارة"},
    "targets.streets": {"en": "{n} streets", "fa": "{n} معبر", "ar": "{n} شارع"},
    "targets.streets.one": {"en": "1 street", "fa": "۱ معبر", "ar": "شارع واحد"},
    "targets.blighted_plots": {"en": "{n} plots", "fa": "{n} قطعه", "ar": "{n} موقع"},
    "targets.blighted_plots.one": {"en": "1 plot", "fa": "۱ قطعه", "ar": "موقع واحد"},
    "targets.workshops": {"en": "{n} workshops", "fa": "{n} کارگاه", "ar": "{n} ورشة"},
    "targets.workshops.one": {"en": "1 workshop", "fa": "۱ کارگاه", "ar": "ورشة واحدة"},
    "targets.parcels": {"en": "{n} parcels", "fa": "{n} قطعه زمین", "ar": "{n} قطعة أرض"},
    "targets.parcels.one": {"en": "1 parcel", "fa": "۱ قطعه زمین", "ar": "قطعة أرض واحدة"},
    "targets.other": {"en": "{n} features", "fa": "{n} عارضه", "ar": "{n} عنصر"},
    "col.kind": {"en": "Kind", "fa": "نوع اقدام", "ar": "النوع"},
    "col.interventions": {"en": "Interventions", "fa": "تعداد اقدام", "ar": "التدخلات"},
    "col.achieved": {"en": "Achieved", "fa": "مقدار محقق", "ar": "المنجز"},
    "col.targets": {"en": "Features", "fa": "عوارض", "ar": "العناصر"},
    "col.planned_cost": {"en": "Planned cost", "fa": "هزینه برآوردی", "ar": "التكلفة المخططة"},
    "col.actual_cost": {"en": "Actual cost", "fa": "هزینه واقعی", "ar": "التكلفة الفعلية"},
    "col.domain": {"en": "Domain", "fa": "حوزه", "ar": "المجال"},
    "col.tasks_done": {"en": "Tasks completed", "fa": "وظایف انجام‌شده", "ar": "المهام المنجزة"},
    "col.indicator": {"en": "Indicator", "fa": "شاخص", "ar": "المؤشر"},
    "col.start": {"en": "At the start", "fa": "ابتدای دوره", "ar": "في البداية"},
    "col.end": {"en": "At the end", "fa": "انتهای دوره", "ar": "في النهاية"},
    "col.change": {"en": "Change", "fa": "تغییر", "ar": "التغيّر"},
    "col.title": {"en": "Title", "fa": "عنوان", "ar": "العنوان"},
    "col.completed_on": {"en": "Completed on", "fa": "تاریخ تکمیل", "ar": "تاريخ الإنجاز"},
    "col.contractor": {"en": "Contractor", "fa": "پیمانکار", "ar": "المقاول"},
    "col.total": {"en": "Total", "fa": "جمع", "ar": "المجموع"},
    "chart.indicators": {
        "en": "Indicators at the start and the end (%)",
        "fa": "شاخص‌ها در ابتدا و انتهای دوره (درصد)",
        "ar": "المؤشرات في البداية والنهاية (%)",
    },
    "chart.tasks": {
        "en": "Tasks completed by domain",
        "fa": "وظایف انجام‌شده به تفکیک حوزه",
        "ar": "المهام المنجزة حسب المجال",
    },
    "chart.kinds": {
        "en": "Completed interventions by kind",
        "fa": "اقدامات تکمیل‌شده به تفکیک نوع",
        "ar": "التدخلات المنجزة حسب النوع",
    },
    "legend.start": {"en": "Start", "fa": "ابتدا", "ar": "البداية"},
    "legend.end": {"en": "End", "fa": "انتها", "ar": "النهاية"},
    "map.note": {
        "en": "Grey: streets and the neighbourhood boundary. Coloured: completed interventions by kind.",
        "fa": "خاکستری: معابر و محدوده محله. رنگی: اقدامات تکمیل‌شده به تفکیک نوع.",
        "ar": "الرمادي: الشوارع وحدود الحي. الملوّن: التدخلات المنجزة حسب النوع.",
    },
    "unit.%": {"en": "%", "fa": "٪", "ar": "٪"},
    "unit.m": {"en": "m", "fa": "متر", "ar": "م"},
    "unit.m2": {"en": "m²", "fa": "متر مربع", "ar": "م²"},
    "unit.count": {"en": "", "fa": "", "ar": ""},
    "indicator.street_length": {"en": "Street length", "fa": "طول معابر", "ar": "طول الشوارع"},
    "indicator.paved_pct": {
        "en": "Streets paved (by length)",
        "fa": "معابر دارای پوشش (به طول)",
        "ar": "الشوارع المرصوفة (بالطول)",
    },
    "indicator.lit_pct": {
        "en": "Streets lit (by length)",
        "fa": "معابر روشن (به طول)",
        "ar": "الشوارع المضاءة (بالطول)",
    },
    "indicator.formalised_pct": {
        "en": "Parcels with a formal title",
        "fa": "قطعات دارای سند رسمی",
        "ar": "قطع بسند رسمي",
    },
    "indicator.blighted_count": {"en": "Blighted plots", "fa": "فضاهای بی‌دفاع و مخروبه", "ar": "المواقع المتدهورة"},
    "indicator.blighted_area": {
        "en": "Area of blighted plots",
        "fa": "مساحت فضاهای بی‌دفاع",
        "ar": "مساحة المواقع المتدهورة",
    },
    "indicator.cleared_pct": {"en": "Blighted plots cleared", "fa": "فضاهای پاک‌سازی‌شده", "ar": "المواقع التي أزيلت"},
    "indicator.polluting_active": {
        "en": "Polluting workshops operating",
        "fa": "کارگاه‌های آلاینده فعال",
        "ar": "الورش الملوثة العاملة",
    },
    "indicator.polluting_sealed": {
        "en": "Polluting workshops sealed",
        "fa": "کارگاه‌های آلاینده پلمب‌شده",
        "ar": "الورش الملوثة المغلقة",
    },
    "indicator.service_points": {"en": "Service points", "fa": "خدمات و منابع محله", "ar": "نقاط الخدمات"},
    "indicator.green_per_resident": {
        "en": "Green space per resident",
        "fa": "سرانه فضای سبز",
        "ar": "المساحة الخضراء للفرد",
    },
    "indicator.park_coverage": {
        "en": "Homes within 300 m of a park",
        "fa": "مسکن در فاصله ۳۰۰ متری پارک",
        "ar": "المساكن على بعد 300 م من حديقة",
    },
    "indicator.school_coverage": {
        "en": "Homes within 500 m of a school",
        "fa": "مسکن در فاصله ۵۰۰ متری مدرسه",
        "ar": "المساكن على بعد 500 م من مدرسة",
    },
    "indicator.clinic_coverage": {
        "en": "Homes within 500 m of a clinic",
        "fa": "مسکن در فاصله ۵۰۰ متری درمانگاه",
        "ar": "المساكن على بعد 500 م من عيادة",
    },
}


def lang_or_default(lang: str | None) -> str:
    return lang if lang in LANGUAGES else "en"


def t(key: str, lang: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` (English if missing), with ``values`` filled in."""
    entry = STRINGS[key]
    return (entry.get(lang) or entry["en"]).format(**values)


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def digits(text: str, lang: str) -> str:
    """ASCII digits and separators as the language writes them."""
    if lang not in _DIGITS:
        return text
    thousands, decimal = _SEPARATORS[lang]
    table = {ord(str(i)): d for i, d in enumerate(_DIGITS[lang])} | {ord(","): thousands, ord("."): decimal}
    return text.translate(table)


def number(value: float | int | None, lang: str, decimals: int = 0, signed: bool = False) -> str:
    """``77622.4`` → "77,622" (en), "۷۷٬۶۲۲" (fa); None → "—"."""
    if value is None:
        return "—"
    text = digits(f"{value:{'+' if signed else ''},.{decimals}f}", lang)
    return "\u200e" + text if signed and lang in RTL else text  # keeps the sign before the number in RTL


def format_date(day: date | None, lang: str) -> str:
    """A date as readers of ``lang`` write it: Jalali in Persian."""
    if day is None:
        return "—"
    if lang == "fa":
        j = jdatetime.date.fromgregorian(date=day, locale="fa_IR")
        return digits(f"{j.day} {j.strftime('%B')} {j.year}", lang)
    if lang == "ar":
        return digits(f"{day.day} {_AR_MONTHS[day.month - 1]} {day.year}", lang)
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def unit(code: str | None, lang: str) -> str:
    return t(f"unit.{code}", lang) if code and f"unit.{code}" in STRINGS else (code or "")


def label(value: dict[str, str], lang: str) -> str:
    """A catalogue translation (layer title, attribute label, value label)."""
    return text_in(value, lang)


def targets(layer: str, n: int, lang: str) -> str:
    key = f"targets.{layer}" if f"targets.{layer}" in STRINGS else "targets.other"
    if n == 1 and f"{key}.one" in STRINGS:
        return t(f"{key}.one", lang)
    return t(key, lang, n=number(n, lang))
