"""The language catalogues (core/i18n/*.json): found by listing the folder, complete, formatted with CLDR."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from core import i18n
from layers import spec

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def forms(value: str | dict[str, str]) -> dict[str, str]:
    return value if isinstance(value, dict) else {"other": value}


def test_the_languages_are_the_catalogue_files_english_first():
    files = {p.stem for p in i18n.FOLDER.glob("*.json")}
    assert set(i18n.LANGUAGES) == files >= {"en", "fa", "ar", "el", "fr"}
    assert i18n.LANGUAGES[:4] == ("en", "fa", "ar", "el")  # the order lists and export columns had
    assert spec.LANGUAGES == i18n.LANGUAGES  # the layer catalogue's translations
    assert {c: i18n.language(c).direction for c in ("en", "fa", "ar", "el", "fr")} == {
        "en": "ltr", "fa": "rtl", "ar": "rtl", "el": "ltr", "fr": "ltr",
    }  # fmt: skip
    assert i18n.language("fa").browser_locale == "fa-IR-u-ca-persian-nu-arabext"
    assert i18n.language("ar").browser_locale == "ar-u-nu-arab"
    assert i18n.language("en").browser_locale == "en-GB"


def test_every_report_string_is_english_keyed_with_english_placeholders_and_the_plural_forms_of_its_language():
    english = i18n.CATALOGUES["en"].strings["report"]
    for code, lang in i18n.CATALOGUES.items():
        report = lang.strings["report"]
        assert set(report) <= set(english), (code, set(report) - set(english))
        categories = set(lang.locale.plural_form.tags) | {"other"}
        for key, value in report.items():
            allowed = {p for text in forms(english[key]).values() for p in PLACEHOLDER.findall(text)}
            assert "other" in forms(value), (code, key)
            assert set(forms(value)) <= categories, (code, key, set(forms(value)) - categories)
            for text in forms(value).values():
                assert set(PLACEHOLDER.findall(text)) <= allowed, (code, key, text)


@pytest.mark.parametrize(
    ("lang", "number", "signed", "day"),
    [
        ("en", "77,622", "+2.5", "21 March 2027"),
        ("fa", "۷۷٬۶۲۲", "\u200e+۲٫۵", "۱ فروردین ۱۴۰۶"),
        ("ar", "٧٧٬٦٢٢", "\u200e+٢٫٥", "٢١ مارس ٢٠٢٧"),
        ("el", "77.622", "+2,5", "21 Μαρτίου 2027"),
        ("fr", "77\u202f622", "+2,5", "21 mars 2027"),
    ],
)
def test_numbers_and_dates_come_from_cldr(lang, number, signed, day):
    assert i18n.number(77622.4, lang) == number
    assert i18n.number(2.5, lang, 1, signed=True) == signed
    assert i18n.format_date(date(2027, 3, 21), lang) == day
    assert i18n.number(None, lang) == "—" and i18n.format_date(None, lang) == "—"


def test_plural_forms_follow_the_language_rule():
    def streets(lang: str, n: int) -> str:
        return i18n.text(lang, "report", "targets.streets", count=n, n=i18n.number(n, lang))

    assert [streets("en", n) for n in (1, 2, 21)] == ["1 street", "2 streets", "21 streets"]
    assert [streets("ar", n) for n in (1, 2, 3, 11, 100)] == ["شارع واحد", "شارعان", "٣ شوارع", "١١ شارعًا", "١٠٠ شارع"]
    assert [streets("fr", n) for n in (0, 1, 2)] == ["0 rue", "1 rue", "2 rues"]  # French: 0 and 1 are singular
    assert [streets("fa", n) for n in (1, 5)] == ["۱ معبر", "۵ معبر"]  # a Persian noun after a number stays singular


def test_a_missing_string_or_language_falls_back_to_english(tmp_path):
    assert i18n.language("xx").code == "en" and i18n.negotiate("xx") == "en" and i18n.negotiate("fr") == "fr"
    assert spec.text_in(spec.tr("Street", fa="معبر"), "fr") == "Street"
    assert spec.tr("Street", fr="Rue", xx="?") == {"en": "Street", "fr": "Rue"}  # only languages with a catalogue
    folder = copy_catalogues(tmp_path)
    (folder / "de.json").write_text(
        json.dumps({"language": {"name": "Deutsch", "locale": "de_DE"}, "report": {"report.title": "Bericht"}}),
        encoding="utf-8",
    )
    found = i18n.discover(folder)
    assert list(found)[-1] == "de" and found["de"].name == "Deutsch"  # no order: after the ordered ones
    assert found["de"].strings["ui"] == {}  # the web app shows English then


def test_adding_a_file_adds_a_language_and_a_broken_one_is_refused(tmp_path):
    folder = copy_catalogues(tmp_path)
    (folder / "tr.json").write_text(json.dumps({"language": {"name": "Türkçe", "locale": "tr_TR"}}), encoding="utf-8")
    found = i18n.discover(folder)
    assert "tr" in found and found["tr"].direction == "ltr" and found["tr"].browser_locale == "tr-TR"
    (folder / "xx.json").write_text(json.dumps({"ui": {}}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx\.json: needs \"language\""):
        i18n.discover(folder)
    (folder / "xx.json").write_text(json.dumps({"language": {"locale": "tr"}, "menu": {}}), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown sections"):
        i18n.discover(folder)
    (folder / "xx.json").unlink()
    (folder / "en.json").unlink()
    with pytest.raises(ValueError, match="no en.json"):
        i18n.discover(folder)


def copy_catalogues(tmp_path: Path) -> Path:
    folder = tmp_path / "i18n"
    folder.mkdir()
    for path in i18n.FOLDER.glob("*.json"):
        shutil.copy(path, folder / path.name)
    return folder
