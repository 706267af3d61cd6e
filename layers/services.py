"""What social services offer and what people need: one list for service points' offers, the services a mobile
unit gives on a visit, the need a referral answers and the categories of recorded needs, so a need can be matched
to the services that answer it. Aggregate by design: nothing here describes a person."""

from layers.spec import choices, tr

SERVICE = choices(
    ("counselling", tr("Counselling", "مشاوره", "استشارة نفسية", "Συμβουλευτική", fr="Accompagnement psychologique"),
     "#d81b60"),
    ("social_care", tr("Social care", "مددکاری اجتماعی", "رعاية اجتماعية", "Κοινωνική φροντίδα", fr="Aide sociale"),
     "#8e24aa"),
    ("health_care", tr("Health care", "مراقبت سلامت", "رعاية صحية", "Υγειονομική φροντίδα", fr="Soins de santé"),
     "#e53935"),
    ("food", tr("Food", "غذا", "غذاء", "Τρόφιμα", fr="Aide alimentaire"), "#fb8c00"),
    ("hygiene_items", tr("Cleaning and hygiene products", "اقلام بهداشتی و شوینده", "مواد تنظيف ونظافة",
                         "Είδη καθαριότητας και υγιεινής", fr="Produits d'hygiène et d'entretien"), "#26a69a"),
    ("education", tr("Education and schooling", "آموزش و تحصیل", "تعليم ودراسة", "Εκπαίδευση",
                     fr="Éducation et scolarité"), "#1e88e5"),
    ("vocational_training", tr("Vocational training", "آموزش مهارت", "تدريب مهني", "Επαγγελματική κατάρτιση",
                               fr="Formation professionnelle"), "#3949ab"),
    ("employment", tr("Employment", "اشتغال", "تشغيل", "Απασχόληση", fr="Emploi"), "#f4511e"),
    ("legal_aid", tr("Legal aid and documents", "کمک حقوقی و مدارک", "مساعدة قانونية ووثائق",
                     "Νομική βοήθεια και έγγραφα", fr="Aide juridique et papiers"), "#5d4037"),
    ("housing", tr("Housing", "مسکن", "سكن", "Στέγαση", fr="Logement"), "#6d4c41"),
    ("child_care", tr("Child care", "مراقبت از کودک", "رعاية الأطفال", "Φροντίδα παιδιών", fr="Garde d'enfants"),
     "#43a047"),
    ("disability", tr("Disability support", "حمایت از افراد دارای معلولیت", "دعم ذوي الإعاقة", "Υποστήριξη αναπηρίας",
                      fr="Soutien au handicap"), "#00897b"),
    ("elderly_care", tr("Elderly care", "مراقبت از سالمندان", "رعاية المسنين", "Φροντίδα ηλικιωμένων",
                        fr="Aide aux personnes âgées"), "#7cb342"),
    ("microfinance", tr("Microcredit and savings", "وام خرد و صندوق", "قروض صغيرة وادخار", "Μικροπιστώσεις",
                        fr="Microcrédit et épargne"), "#c0ca33"),
    ("other", tr("Other", "سایر", "أخرى", "Άλλο", fr="Autre"), "#9e9e9e"),
)  # fmt: skip

AUDIENCE = choices(
    ("everyone", tr("Everyone", "همه", "الجميع", "Όλοι", fr="Tout public")),
    ("children", tr("Children", "کودکان", "الأطفال", "Παιδιά", fr="Enfants")),
    ("youth", tr("Young people", "نوجوانان و جوانان", "الشباب", "Νέοι", fr="Jeunes")),
    ("women", tr("Women", "زنان", "النساء", "Γυναίκες", fr="Femmes")),
    ("families", tr("Families", "خانواده‌ها", "الأسر", "Οικογένειες", fr="Familles")),
    ("elderly", tr("Older people", "سالمندان", "كبار السن", "Ηλικιωμένοι", fr="Personnes âgées")),
    ("disabled", tr("People with disabilities", "افراد دارای معلولیت", "ذوو الإعاقة", "Άτομα με αναπηρία",
                    fr="Personnes handicapées")),
    ("migrants", tr("Migrants and refugees", "مهاجران و پناهندگان", "المهاجرون واللاجئون", "Μετανάστες και πρόσφυγες",
                    fr="Migrants et réfugiés")),
)  # fmt: skip
