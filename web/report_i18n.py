"""The reports' text (achievement report, CLI tables): the ``report`` section of the language catalogues.

Languages, strings, plural forms, numbers and dates come from ``core.i18n`` (one JSON catalogue per language,
CLDR data through Babel, Jalali dates through jdatetime): a language with a catalogue has reports. Labels of
layers, attributes and values come from the layer catalogue (``layers.spec.text_in``); this module holds only
the text around them. English is the fallback for a missing translation.
"""

from __future__ import annotations

from datetime import date

from core import i18n
from layers.spec import text_in

SECTION = "report"


LANGUAGES = i18n.LANGUAGES
RTL = frozenset(code for code, lang in i18n.CATALOGUES.items() if lang.direction == "rtl")
# {key: {language: text, or its plural forms}}, as the catalogues have them.
STRINGS = {
    key: {code: lang.strings[SECTION][key] for code, lang in i18n.CATALOGUES.items() if key in lang.strings[SECTION]}
    for key in i18n.CATALOGUES[i18n.FALLBACK].strings[SECTION]
}


def lang_or_default(lang: str | None) -> str:
    return i18n.negotiate(lang)


def t(key: str, lang: str, count: float | None = None, **values: object) -> str:
    """The text of ``key`` in ``lang`` (English if missing), its plural form for ``count``, ``values`` filled in."""
    return i18n.text(lang, SECTION, key, count, **values)


def direction(lang: str) -> str:
    return i18n.language(lang).direction


def digits(text: str, lang: str) -> str:
    """ASCII digits as the language writes them."""
    return i18n.language(lang).digits(text)


def number(value: float | int | None, lang: str, decimals: int = 0, signed: bool = False) -> str:
    """``77622.4`` → "77,622" (en), "۷۷٬۶۲۲" (fa); None → "—"."""
    return i18n.number(value, lang, decimals, signed)


def format_date(day: date | None, lang: str) -> str:
    """A date as readers of ``lang`` write it: Jalali in Persian."""
    return i18n.format_date(day, lang)


def join(items: list[str], lang: str) -> str:
    """Items of a list, one after the other ("4 streets, 2 plots")."""
    return t("list.separator", lang).join(items)


def unit(code: str | None, lang: str) -> str:
    return t(f"unit.{code}", lang) if code and i18n.has(SECTION, f"unit.{code}") else (code or "")


def label(value: dict[str, str], lang: str) -> str:
    """A catalogue translation (layer title, attribute label, value label)."""
    return text_in(value, lang)


def targets(layer: str, n: int, lang: str) -> str:
    """A count of features ("4 streets", "1 street", "شارعان") in the plural form the language's rule gives."""
    key = f"targets.{layer}" if i18n.has(SECTION, f"targets.{layer}") else "targets.other"
    return t(key, lang, count=n, n=number(n, lang))
