"""The neighbourhood action plan: goals, tasks and subtasks in five domains."""

from layers.spec import Attribute, Check, Layer, choices, tr

DOMAIN = choices(
    ("urban_physical", tr("Urban / physical", "کالبدی", "عمراني", "Πολεοδομικός", fr="Urbain / aménagement")),
    ("social", tr("Social", "اجتماعی", "اجتماعي", "Κοινωνικός", fr="Social")),
    ("economic", tr("Economic", "اقتصادی", "اقتصادي", "Οικονομικός", fr="Économique")),
    ("legal", tr("Legal", "حقوقی", "قانوني", "Νομικός", fr="Juridique")),
    ("social_work", tr("Social work", "مددکاری اجتماعی", "عمل اجتماعي", "Κοινωνική εργασία", fr="Travail social")),
)
LEVEL = choices(
    ("goal", tr("Goal", "هدف", "هدف", "Στόχος", fr="Objectif")),
    ("task", tr("Task", "وظیفه", "مهمة", "Εργασία", fr="Tâche")),
    ("subtask", tr("Subtask", "زیروظیفه", "مهمة فرعية", "Υποεργασία", fr="Sous-tâche")),
)
STATUS = choices(
    ("todo", tr("To do", "انجام‌نشده", "للتنفيذ", "Προς υλοποίηση", fr="À faire"), "#90a4ae"),
    ("in_progress", tr("In progress", "در حال انجام", "قيد التنفيذ", "Σε εξέλιξη", fr="En cours"), "#ffa726"),
    ("blocked", tr("Blocked", "متوقف", "متعثر", "Μπλοκαρισμένη", fr="Bloquée"), "#e53935"),
    ("done", tr("Done", "انجام‌شده", "منجز", "Ολοκληρώθηκε", fr="Terminée"), "#2e7d32"),
    ("cancelled", tr("Cancelled", "لغوشده", "ملغى", "Ακυρώθηκε", fr="Annulée"), "#616161"),
)
PRIORITY = choices(
    ("low", tr("Low", "کم", "منخفضة", "Χαμηλή", fr="Basse")),
    ("medium", tr("Medium", "متوسط", "متوسطة", "Μέση", fr="Moyenne")),
    ("high", tr("High", "زیاد", "مرتفعة", "Υψηλή", fr="Haute")),
    ("urgent", tr("Urgent", "فوری", "عاجلة", "Επείγουσα", fr="Urgente")),
)

LAYER = Layer(
    name="tasks",
    title=tr(
        "Action plan tasks",
        "وظایف برنامه عمل",
        "مهام خطة العمل",
        "Εργασίες σχεδίου δράσης",
        fr="Tâches du plan d'action",
    ),
    description=tr(
        "Goals, tasks and subtasks of the neighbourhood action plan.",
        "اهداف، وظایف و زیروظایف برنامه عمل محله",
        "أهداف خطة عمل الحي ومهامها ومهامها الفرعية",
        "Στόχοι, εργασίες και υποεργασίες του σχεδίου δράσης της γειτονιάς",
        fr="Objectifs, tâches et sous-tâches du plan d'action du quartier.",
    ),
    geometry_type=None,
    kind="planning",
    key_attribute="status",
    label_attribute="title",
    date_attribute="due_date",
    geometry_required=False,
    attributes=(
        Attribute(
            "title", "text", tr("Title", "عنوان", "العنوان", "Τίτλος", fr="Intitulé"), required=True, max_length=300
        ),
        Attribute(
            "domain", "choice", tr("Domain", "حوزه", "المجال", "Τομέας", fr="Domaine"), required=True, choices=DOMAIN
        ),
        Attribute(
            "level",
            "choice",
            tr("Level", "سطح", "المستوى", "Επίπεδο", fr="Niveau"),
            required=True,
            choices=LEVEL,
            fixed=True,  # a lifecycle the code follows: translated, never extended
            default="task",
        ),
        Attribute(
            "parent_id",
            "reference",
            tr("Part of", "زیرمجموعه", "جزء من", "Μέρος του", fr="Fait partie de"),
            references="tasks",
        ),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση", fr="Statut"),
            required=True,
            choices=STATUS,
            fixed=True,  # a lifecycle the code follows: translated, never extended
            default="todo",
        ),
        Attribute(
            "priority",
            "choice",
            tr("Priority", "اولویت", "الأولوية", "Προτεραιότητα", fr="Priorité"),
            required=True,
            choices=PRIORITY,
            default="medium",
        ),
        Attribute("assignee", "text", tr("Assignee", "مسئول", "المكلّف", "Υπεύθυνος", fr="Responsable"), max_length=200),
        Attribute("due_date", "date", tr("Due date", "سررسید", "تاريخ الاستحقاق", "Προθεσμία", fr="Échéance")),
        Attribute(
            "progress",
            "number",
            tr("Progress", "پیشرفت", "التقدم", "Πρόοδος", fr="Avancement"),
            unit="%",
            minimum=0,
            maximum=100,
            help=tr(
                "Set by hand only for tasks with no linked interventions.",
                "فقط برای وظایفی که اقدام مرتبط ندارند دستی وارد می‌شود.",
                "يُحدَّد يدوياً فقط للمهام التي لا ترتبط بها تدخلات.",
                "Ορίζεται χειροκίνητα μόνο για εργασίες χωρίς συνδεδεμένες παρεμβάσεις.",
                fr="À saisir à la main seulement pour les tâches sans intervention liée.",
            ),
        ),
        Attribute("description", "text", tr("Description", "شرح", "الوصف", "Περιγραφή", fr="Description")),
    ),
    checks=(Check("not_own_parent", "parent_id IS NULL OR parent_id <> id", "a task cannot be part of itself"),),
)
