"""The languages Mahalle speaks: one catalogue per language, found by listing this folder.

Every ``<code>.json`` beside this file is a language. Adding a file adds the language everywhere: the web
app's language list and strings, the layer catalogue's translations (``layers.spec.LANGUAGES``: custom layer
labels, label columns of exports), the API's ``lang`` negotiation and the printed reports. A catalogue is::

    {"language": {"name": "Français", "locale": "fr_FR", "order": 5},
     "ui": {"edit.save": "Enregistrer", ...},
     "report": {"targets.streets": {"one": "{n} rue", "other": "{n} rues"}, ...}}

- ``language``: ``name`` in the language itself; ``locale``, the CLDR locale Babel formats numbers, dates and
  plurals with (its script gives the text direction); optional ``numbers``, the numbering system (``arab``,
  ``arabext``: the locale's default otherwise), ``calendar`` (``persian``: Jalali dates, from jdatetime) and
  ``order`` (place in lists; English, the fallback, is 1).
- ``ui``: the web app's strings (``web/static/js/i18n.js``), with ``{name}`` placeholders.
- ``report``: the reports' strings. A value may be an object of CLDR plural categories (``zero``, ``one``,
  ``two``, ``few``, ``many``, ``other``): ``text(..., count=n)`` picks the one the language's plural rule
  gives for ``n``.

A string a catalogue lacks (or leaves empty) is taken from English.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jdatetime
from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import tokenize_pattern
from babel.numbers import get_minus_sign_symbol, get_plus_sign_symbol, parse_pattern

FOLDER = Path(__file__).resolve().parent
FALLBACK = "en"
SECTIONS = ("ui", "report")
_BIDI_MARKS = "\u200e\u200f\u061c"
# The first digit of a numbering system (CLDR numberingSystems; the ten digits follow it in Unicode).
_ZERO = {"latn": "DIGIT ZERO", "arab": "ARABIC-INDIC DIGIT ZERO", "arabext": "EXTENDED ARABIC-INDIC DIGIT ZERO",
         "deva": "DEVANAGARI DIGIT ZERO", "beng": "BENGALI DIGIT ZERO", "thai": "THAI DIGIT ZERO"}  # fmt: skip


@dataclass(frozen=True)
class Language:
    """One catalogue: who the language is (code, name, CLDR locale, digits, calendar) and its strings."""

    code: str
    name: str
    locale: Locale
    numbers: str
    calendar: str = "gregorian"
    order: int = 1000
    strings: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def direction(self) -> str:
        """``rtl`` or ``ltr``, from the CLDR data of the locale's script."""
        return self.locale.text_direction

    @property
    def browser_locale(self) -> str:
        """The BCP 47 tag the browser's ``Intl`` formats with (calendar and digits as here)."""
        tag = str(self.locale).replace("_", "-")
        extensions = ([f"ca-{self.calendar}"] if self.calendar != "gregorian" else []) + (
            [f"nu-{self.numbers}"] if self.numbers != "latn" else []
        )
        return f"{tag}-u-{'-'.join(extensions)}" if extensions else tag

    def digits(self, text: str) -> str:
        """ASCII digits written in the language's numbering system."""
        if self.numbers == "latn":
            return text
        zero = ord(unicodedata.lookup(_ZERO[self.numbers]))
        return text.translate({ord("0") + i: zero + i for i in range(10)})


def _language(path: Path) -> Language:
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data.get("language") or {}
    where = f"{path.name}: "
    if not isinstance(meta, dict) or not meta.get("locale"):
        raise ValueError(where + 'needs "language": {"locale": "<CLDR locale>", ...}')
    unknown = set(data) - {"language", *SECTIONS}
    if unknown:
        raise ValueError(where + f"unknown sections {sorted(unknown)}; a catalogue has language, ui and report")
    locale = Locale.parse(meta["locale"])
    numbers = meta.get("numbers") or locale.default_numbering_system
    if numbers not in _ZERO:
        raise ValueError(where + f"numbering system {numbers!r} is not one of {sorted(_ZERO)}")
    calendar = meta.get("calendar", "gregorian")
    if calendar not in ("gregorian", "persian"):
        raise ValueError(where + f"calendar {calendar!r}: gregorian or persian")
    return Language(
        code=path.stem,
        name=meta.get("name") or locale.get_display_name(locale),
        locale=locale,
        numbers=numbers,
        calendar=calendar,
        order=int(meta.get("order", 1000)),
        strings={section: dict(data.get(section) or {}) for section in SECTIONS},
    )


def discover(folder: Path = FOLDER) -> dict[str, Language]:
    """Every ``<code>.json`` of ``folder`` as a language, in their ``order`` (then by code)."""
    found = [_language(p) for p in folder.glob("*.json") if p.stem.replace("_", "").isalnum()]
    if FALLBACK not in {lang.code for lang in found}:
        raise ValueError(f"{folder} has no {FALLBACK}.json: English is every other catalogue's fallback")
    return {lang.code: lang for lang in sorted(found, key=lambda lang: (lang.order, lang.code))}


_folder = FOLDER
CATALOGUES: dict[str, Language] = discover()
LANGUAGES: tuple[str, ...] = tuple(CATALOGUES)


def use_folder(folder: Path) -> None:
    """Read the catalogues from ``folder`` instead (a copy with another language in it, in a test). Modules
    that took ``LANGUAGES`` at import keep what they took: call this before importing them."""
    global _folder, CATALOGUES, LANGUAGES
    _folder, CATALOGUES = folder, discover(folder)
    LANGUAGES = tuple(CATALOGUES)


def folder() -> Path:
    """The folder the catalogues were read from (the web app serves ``/i18n/<code>.json`` from it)."""
    return _folder


def language(code: str | None) -> Language:
    """The catalogue of ``code``; English for a language there is no catalogue of."""
    return CATALOGUES.get(code or FALLBACK) or CATALOGUES[FALLBACK]


def negotiate(wanted: str | None) -> str:
    """``wanted`` when there is a catalogue for it, else English."""
    return wanted if wanted in CATALOGUES else FALLBACK


def text(code: str, section: str, key: str, count: float | None = None, **values: object) -> str:
    """The string ``key`` of ``section`` in ``code`` (English when missing), its plural form for ``count``
    chosen by the language's CLDR rule, ``{name}`` placeholders filled from ``values``."""
    lang = language(code)
    entry = lang.strings[section].get(key) or CATALOGUES[FALLBACK].strings[section][key]
    if isinstance(entry, dict):
        entry = entry.get(lang.locale.plural_form(count if count is not None else 0)) or entry["other"]
    return str(entry).format(**values)


def has(section: str, key: str) -> bool:
    """Whether English (and so every language) has ``key``."""
    return key in CATALOGUES[FALLBACK].strings[section]


def number(value: float | None, code: str, decimals: int = 0, signed: bool = False) -> str:
    """``value`` rounded to ``decimals`` as readers of the language write it (CLDR separators and digits):
    77622.4 → "77,622" (en), "۷۷٬۶۲۲" (fa), "77.622" (el). ``signed`` always shows the sign, kept before the
    number in right-to-left text. None → "—"."""
    if value is None:
        return "—"
    lang = language(code)
    pattern = parse_pattern(lang.locale.decimal_formats[None].pattern)
    pattern.frac_prec = (decimals, decimals)
    amount = Decimal(str(value))
    if not signed:
        return lang.digits(pattern.apply(amount, lang.locale, numbering_system=lang.numbers))
    symbol = get_minus_sign_symbol if amount < 0 else get_plus_sign_symbol
    sign = symbol(lang.locale, numbering_system=lang.numbers).strip(_BIDI_MARKS)
    body = lang.digits(pattern.apply(abs(amount), lang.locale, numbering_system=lang.numbers))
    return ("\u200e" if lang.direction == "rtl" else "") + sign + body


def format_date(day: date | None, code: str) -> str:
    """``day`` in the language's long date format (CLDR): "21 March 2027", "٢١ مارس ٢٠٢٧", and in the
    Jalali calendar for a Persian-calendar language: "۱ فروردین ۱۴۰۶". None → "—"."""
    if day is None:
        return "—"
    lang = language(code)
    if lang.calendar != "persian":
        return lang.digits(babel_date(day, "long", locale=lang.locale))
    jalali = jdatetime.date.fromgregorian(date=day)
    parts = []
    for kind, token in tokenize_pattern(lang.locale.date_formats["long"].pattern):
        if kind == "chars":
            parts.append(token)
            continue
        letter, width = token
        if letter == "d":
            parts.append(f"{jalali.day:0{width}d}")
        elif letter in "ML" and width >= 3:
            parts.append(jdatetime.date.j_months_fa[jalali.month - 1])
        elif letter in "ML":
            parts.append(f"{jalali.month:0{width}d}")
        elif letter == "y":
            parts.append(f"{jalali.year % 100:02d}" if width == 2 else str(jalali.year))
        else:
            raise ValueError(f"{lang.code}: Jalali dates have no field {letter * width!r}")
    return lang.digits("".join(parts))
