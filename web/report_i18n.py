"""The reports' text (achievement report, CLI tables): the ``report`` section of the language catalogues.

Languages, strings, plural forms, numbers and dates come from ``core.i18n`` (one JSON catalogue per language,
CLDR data through Babel, Jalali dates through jdatetime): a language with a catalogue has reports. Labels of
layers, attributes and values come from the layer catalogue (``layers.spec.text_in``); this module holds only
the text around them. English is the fallback for a missing translation.

A report may write its numbers in other digits than its language's (Moroccan offices write Arabic with Latin
digits): ``with_digits("ar", "latn")`` gives the BCP 47 tag ``ar-u-nu-latn``, which every function here takes
where a language code goes (and the page's ``lang`` attribute carries as it is).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from babel.numbers import get_minus_sign_symbol, get_plus_sign_symbol, parse_pattern

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


DIGITS = ("latn", "arab", "arabext")  # the numbering systems a report may be asked for
_NU = "-u-nu-"


def lang_or_default(lang: str | None) -> str:
    return i18n.negotiate(lang)


def with_digits(lang: str, numbers: str | None) -> str:
    """``lang`` writing its numbers in ``numbers`` (``ar`` + ``latn`` → ``ar-u-nu-latn``); as it is for None
    or the language's own digits."""
    if numbers is None or numbers == i18n.language(lang).numbers:
        return lang
    if numbers not in DIGITS:
        raise ValueError(f"digits must be one of {', '.join(DIGITS)}, not {numbers!r}")
    return f"{lang}{_NU}{numbers}"


def _code(lang: str) -> str:
    return lang.split(_NU)[0]


def _language(lang: str) -> i18n.Language:
    """The catalogue of ``lang``, with the digits its tag asks for."""
    found = i18n.language(_code(lang))
    return dataclasses.replace(found, numbers=lang.split(_NU)[1]) if _NU in lang else found


def t(key: str, lang: str, count: float | None = None, **values: object) -> str:
    """The text of ``key`` in ``lang`` (English if missing), its plural form for ``count``, ``values`` filled in."""
    return i18n.text(_code(lang), SECTION, key, count, **values)


def direction(lang: str) -> str:
    return i18n.language(_code(lang)).direction


def digits(text: str, lang: str) -> str:
    """ASCII digits as the language writes them."""
    return _language(lang).digits(text)


def number(value: float | int | None, lang: str, decimals: int = 0, signed: bool = False) -> str:
    """``77622.4`` → "77,622" (en), "۷۷٬۶۲۲" (fa), "77,622" (ar-u-nu-latn); None → "—"."""
    if _NU not in lang:
        return i18n.number(value, lang, decimals, signed)
    if value is None:
        return "—"
    found = _language(lang)  # CLDR has the language's separators for each numbering system
    pattern = parse_pattern(found.locale.decimal_formats[None].pattern)
    pattern.frac_prec = (decimals, decimals)
    amount = Decimal(str(value))
    body = found.digits(pattern.apply(abs(amount) if signed else amount, found.locale, numbering_system=found.numbers))
    if not signed:
        return body
    symbol = get_minus_sign_symbol if amount < 0 else get_plus_sign_symbol
    sign = symbol(found.locale, numbering_system=found.numbers).strip("\u200e\u200f\u061c")
    return ("\u200e" if found.direction == "rtl" else "") + sign + body


def format_date(day: date | None, lang: str) -> str:
    """A date as readers of ``lang`` write it: Jalali in Persian; in the digits the tag asks for."""
    text = i18n.format_date(day, _code(lang))
    if _NU not in lang:
        return text
    native = i18n.language(_code(lang))
    ascii_text = text.translate({ord(native.digits(str(i))): str(i) for i in range(10)})
    return _language(lang).digits(ascii_text)


def join(items: list[str], lang: str) -> str:
    """Items of a list, one after the other ("4 streets, 2 plots")."""
    return t("list.separator", lang).join(items)


def unit(code: str | None, lang: str) -> str:
    return t(f"unit.{code}", lang) if code and i18n.has(SECTION, f"unit.{code}") else (code or "")


def label(value: dict[str, str], lang: str) -> str:
    """A catalogue translation (layer title, attribute label, value label)."""
    return text_in(value, _code(lang))


def targets(layer: str, n: int, lang: str) -> str:
    """A count of features ("4 streets", "1 street", "شارعان") in the plural form the language's rule gives."""
    key = f"targets.{layer}" if i18n.has(SECTION, f"targets.{layer}") else "targets.other"
    return t(key, lang, count=n, n=number(n, lang))
