"""Referrals between services, counted: how many people one service sent to another for a need, and how many
of them were followed up (seen by the service they were sent to). Aggregate counts only, never a case file.

A referral lies where it was made (an optional place), else in the neighbourhood of the service that made it (else
the one it went to, else its task's); with a task it counts in that task's outcomes as referrals made (job referrals
when the need is employment; ``layers/sql/outcomes.sql``).
"""

from layers.services import SERVICE
from layers.spec import Attribute, Check, Layer, tr

LAYER = Layer(
    name="referrals",
    title=tr("Referrals", "ارجاع‌ها", "الإحالات", "Παραπομπές", fr="Orientations"),
    description=tr(
        "How many people one service referred to another for a need, and how many were followed up. "
        "Aggregate counts only.",
        "تعداد افرادی که یک مرکز خدمت برای نیازی به مرکز دیگر ارجاع داده و پیگیری آن؛ فقط آمار کلی",
        "عدد الأشخاص الذين أحالتهم خدمة إلى أخرى لحاجة ما، وعدد من تمت متابعتهم؛ أعداد إجمالية فقط",
        "Πόσα άτομα παρέπεμψε μια υπηρεσία σε άλλη και πόσα παρακολουθήθηκαν· μόνο συγκεντρωτικά",
        fr="Combien de personnes un service a orientées vers un autre, et combien ont été suivies ; "
        "des chiffres globaux seulement",
    ),
    geometry_type="Point",
    kind="planning",
    key_attribute="need",
    date_attribute="date",
    geometry_required=False,  # where it was made, if not at the referring service
    attributes=(
        Attribute("date", "date", tr("Date", "تاریخ", "التاريخ", "Ημερομηνία", fr="Date"), required=True),
        Attribute("from_service_id", "reference", tr("Referred by", "ارجاع‌دهنده", "الجهة المحيلة", "Παραπομπή από",
                  fr="Orienté par"), references="service_points"),
        Attribute("to_service_id", "reference", tr("Referred to", "ارجاع به", "الجهة المحال إليها", "Παραπομπή σε",
                  fr="Orienté vers"), references="service_points"),
        Attribute("need", "choice", tr("For", "برای", "من أجل", "Για", fr="Pour"), required=True, choices=SERVICE),
        Attribute("people", "integer", tr("People referred", "افراد ارجاع‌شده", "الأشخاص المحالون",
                  "Άτομα που παραπέμφθηκαν", fr="Personnes orientées"), required=True, minimum=1),
        Attribute("followed_up", "integer", tr("Followed up", "پیگیری‌شده", "تمت متابعتهم", "Παρακολουθήθηκαν",
                  fr="Suivies"), minimum=0),
        Attribute("task_id", "reference", tr("Task", "وظیفه", "المهمة", "Εργασία", fr="Tâche"), references="tasks"),
        Attribute("note", "text", tr("Note", "یادداشت", "ملاحظة", "Σημείωση", fr="Remarque"), max_length=2000),
    ),
    checks=(
        Check("followed_up_within_people", "coalesce(followed_up, 0) <= people",
              "more people followed up than were referred"),
        Check("two_services", "from_service_id IS NULL OR from_service_id IS DISTINCT FROM to_service_id",
              "a service cannot refer people to itself"),
    ),
)  # fmt: skip
