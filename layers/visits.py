"""Outreach visits of a mobile unit: a team (psychologist, social worker, driver …) at a school, a clinic or a
partner municipality's square, the people it served and the services it gave.

A visit belongs to a task of the action plan and rolls up into that task's counted outcomes: the database keeps,
for each visit, an output of one outreach visit, one of the people reached (with the breakdown by sex) and one of
the sessions given (``layers/sql/outcomes.sql``), so targets, reports and exports count visits like every other
outcome. Aggregate counts only: never the names of the people served.
"""

from layers.services import SERVICE
from layers.spec import Attribute, Check, Layer, choices, tr

TEAM = choices(
    ("psychologist", tr("Psychologist", "روان‌شناس", "أخصائي نفسي", "Ψυχολόγος", fr="Psychologue")),
    ("social_worker", tr("Social worker", "مددکار اجتماعی", "أخصائي اجتماعي", "Κοινωνικός λειτουργός",
                         fr="Travailleur social")),
    ("nurse", tr("Nurse", "پرستار", "ممرض", "Νοσηλευτής", fr="Infirmier")),
    ("doctor", tr("Doctor", "پزشک", "طبيب", "Γιατρός", fr="Médecin")),
    ("teacher", tr("Teacher / trainer", "مربی", "مدرّب", "Εκπαιδευτής", fr="Formateur")),
    ("lawyer", tr("Lawyer", "وکیل", "محامٍ", "Δικηγόρος", fr="Juriste")),
    ("driver", tr("Driver", "راننده", "سائق", "Οδηγός", fr="Chauffeur")),
    ("volunteer", tr("Volunteer", "داوطلب", "متطوع", "Εθελοντής", fr="Bénévole")),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre")),
)  # fmt: skip


def _count(name: str, label: dict[str, str]) -> Attribute:
    return Attribute(name, "integer", label, minimum=0)


LAYER = Layer(
    name="visits",
    title=tr("Outreach visits", "بازدیدهای سیار", "الزيارات الميدانية", "Επισκέψεις κινητής μονάδας",
             fr="Visites de l'unité mobile"),
    description=tr(
        "Visits of a mobile unit: where, which team, how many people it served and which services it gave. "
        "Each visit counts in its task's outcomes. Aggregate counts only: never names.",
        "بازدیدهای واحد سیار: کجا، با کدام تیم، چند نفر خدمت گرفتند و چه خدماتی داده شد؛ فقط آمار کلی",
        "زيارات الوحدة المتنقلة: أين، أي فريق، كم شخصاً خدمت وأي خدمات قدمت؛ أعداد إجمالية فقط",
        "Επισκέψεις κινητής μονάδας: πού, ποια ομάδα, πόσα άτομα εξυπηρέτησε και ποιες υπηρεσίες έδωσε",
        fr="Visites d'une unité mobile : où, quelle équipe, combien de personnes servies, quels services ; "
        "des chiffres globaux seulement",
    ),
    geometry_type="Point",
    kind="planning",
    key_attribute="team",
    label_attribute="place_name",
    date_attribute="date",
    geometry_required=False,  # a place, a service point's, or its task's neighbourhood
    attributes=(
        Attribute("date", "date", tr("Date", "تاریخ", "التاريخ", "Ημερομηνία", fr="Date"), required=True),
        Attribute("task_id", "reference", tr("Task", "وظیفه", "المهمة", "Εργασία", fr="Tâche"), required=True,
                  references="tasks"),
        Attribute("service_point_id", "reference",
                  tr("Service point", "محل خدمت", "نقطة الخدمة", "Σημείο εξυπηρέτησης", fr="Lieu de service"),
                  references="service_points"),
        Attribute("place_name", "text", tr("Place", "مکان", "المكان", "Τόπος", fr="Lieu"), max_length=200,
                  help=tr("e.g. the partner municipality's school", "مثلاً مدرسه شهرداری همکار",
                          "مثلاً مدرسة البلدية الشريكة", "π.χ. το σχολείο του συνεργαζόμενου δήμου",
                          fr="p. ex. l'école de la commune partenaire")),
        Attribute("team", "choices", tr("Team", "تیم", "الفريق", "Ομάδα", fr="Équipe"), choices=TEAM),
        Attribute("people_served", "integer", tr("People served", "افراد خدمت‌گرفته", "الأشخاص المخدومون",
                  "Άτομα που εξυπηρετήθηκαν", fr="Personnes servies"), required=True, minimum=0),
        _count("female", tr("Women and girls", "زن", "إناث", "Γυναίκες", fr="Femmes et filles")),
        _count("male", tr("Men and boys", "مرد", "ذكور", "Άνδρες", fr="Hommes et garçons")),
        Attribute("services", "choices", tr("Services given", "خدمات ارائه‌شده", "الخدمات المقدمة",
                  "Υπηρεσίες που δόθηκαν", fr="Services rendus"), choices=SERVICE),
        _count("sessions", tr("Sessions given", "جلسات", "الجلسات المقدمة", "Συνεδρίες", fr="Séances")),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque"), max_length=2000,
                  help=tr("No names or personal data", "بدون نام یا اطلاعات شخصی", "دون أسماء أو بيانات شخصية",
                          "Χωρίς ονόματα ή προσωπικά δεδομένα", fr="Ni noms ni données personnelles")),
    ),
    checks=(
        Check("sex_within_people", "coalesce(female, 0) + coalesce(male, 0) <= people_served",
              "the breakdown by sex (female + male) adds up to more than the people served"),
    ),
)  # fmt: skip
