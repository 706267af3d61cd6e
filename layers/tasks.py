"""The neighbourhood action plan: goals, tasks and subtasks in five domains."""

from layers.spec import Attribute, Check, Layer, choices, tr

DOMAIN = choices(
    ("urban_physical", tr("Urban / physical", "کالبدی", "عمراني", "Πολεοδομικός")),
    ("social", tr("Social", "اجتماعی", "اجتماعي", "Κοινωνικός")),
    ("economic", tr("Economic", "اقتصادی", "اقتصادي", "Οικονομικός")),
    ("legal", tr("Legal", "حقوقی", "قانوني", "Νομικός")),
    ("social_work", tr("Social work", "مددکاری اجتماعی", "عمل اجتماعي", "Κοινωνική εργασία")),
)
LEVEL = choices(
    ("goal", tr("Goal", "هدف", "هدف", "Στόχος")),
    ("task", tr("Task", "وظیفه", "مهمة", "Εργασία")),
    ("subtask", tr("Subtask", "زیروظیفه", "مهمة فرعية", "Υποεργασία")),
)
STATUS = choices(
    ("todo", tr("To do", "انجام‌نشده", "للتنفيذ", "Προς υλοποίηση"), "#90a4ae"),
    ("in_progress", tr("In progress", "در حال انجام", "قيد التنفيذ", "Σε εξέλιξη"), "#ffa726"),
    ("blocked", tr("Blocked", "متوقف", "متعثر", "Μπλοκαρισμένη"), "#e53935"),
    ("done", tr("Done", "انجام‌شده", "منجز", "Ολοκληρώθηκε"), "#2e7d32"),
    ("cancelled", tr("Cancelled", "لغوشده", "ملغى", "Ακυρώθηκε"), "#616161"),
)
PRIORITY = choices(
    ("low", tr("Low", "کم", "منخفضة", "Χαμηλή")),
    ("medium", tr("Medium", "متوسط", "متوسطة", "Μέση")),
    ("high", tr("High", "زیاد", "مرتفعة", "Υψηλή")),
    ("urgent", tr("Urgent", "فوری", "عاجلة", "Επείγουσα")),
)

LAYER = Layer(
    name="tasks",
    title=tr("Action plan tasks", "وظایف برنامه عمل", "مهام خطة العمل", "Εργασίες σχεδίου δράσης"),
    description=tr(
        "Goals, tasks and subtasks of the neighbourhood action plan.", "اهداف، وظایف و زیروظایف برنامه عمل محله"
    ),
    geometry_type=None,
    kind="planning",
    key_attribute="status",
    label_attribute="title",
    date_attribute="due_date",
    geometry_required=False,
    attributes=(
        Attribute("title", "text", tr("Title", "عنوان", "العنوان", "Τίτλος"), required=True, max_length=300),
        Attribute("domain", "choice", tr("Domain", "حوزه", "المجال", "Τομέας"), required=True, choices=DOMAIN),
        Attribute(
            "level", "choice", tr("Level", "سطح", "المستوى", "Επίπεδο"), required=True, choices=LEVEL, default="task"
        ),
        Attribute("parent_id", "reference", tr("Part of", "زیرمجموعه", "جزء من", "Μέρος του"), references="tasks"),
        Attribute(
            "status",
            "choice",
            tr("Status", "وضعیت", "الحالة", "Κατάσταση"),
            required=True,
            choices=STATUS,
            default="todo",
        ),
        Attribute(
            "priority",
            "choice",
            tr("Priority", "اولویت", "الأولوية", "Προτεραιότητα"),
            required=True,
            choices=PRIORITY,
            default="medium",
        ),
        Attribute("assignee", "text", tr("Assignee", "مسئول", "المكلّف", "Υπεύθυνος"), max_length=200),
        Attribute("due_date", "date", tr("Due date", "سررسید", "تاريخ الاستحقاق", "Προθεσμία")),
        Attribute(
            "progress",
            "number",
            tr("Progress", "پیشرفت", "التقدم", "Πρόοδος"),
            unit="%",
            minimum=0,
            maximum=100,
            help=tr("Set by hand only for tasks with no linked interventions."),
        ),
        Attribute("description", "text", tr("Description", "شرح", "الوصف", "Περιγραφή")),
    ),
    checks=(Check("not_own_parent", "parent_id IS NULL OR parent_id <> id", "a task cannot be part of itself"),),
)
