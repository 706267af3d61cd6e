"""Attributes several layers of the catalogue share, declared once."""

from layers.spec import Attribute, tr

NAME_LATIN = Attribute(
    "name_latin",
    "text",
    tr(
        "Name (Latin script)",
        "نام لاتین",
        "الاسم باللاتينية",
        "Όνομα (λατινικοί χαρακτήρες)",
        fr="Nom (alphabet latin)",
    ),  # fmt: skip
    max_length=200,
)
