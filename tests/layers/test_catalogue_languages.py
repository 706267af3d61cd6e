"""Every text of the core layer catalogue is translated into every language the core layers are written in."""

from layers.catalogue import CORE_LAYERS

CORE_LANGUAGES = ("en", "fa", "ar", "el", "fr")


def _texts():
    """(where, translated text) for every title, description, label, choice label and help text of the core layers."""
    for layer in CORE_LAYERS:
        yield f"{layer.name}: title", layer.title
        yield f"{layer.name}: description", layer.description
        for attr in layer.attributes:
            yield f"{layer.name}.{attr.name}: label", attr.label
            if attr.help:
                yield f"{layer.name}.{attr.name}: help", attr.help
            for choice in attr.choices:
                yield f"{layer.name}.{attr.name}={choice.value}: label", choice.label


def test_every_core_layer_text_is_in_every_language():
    missing = [
        f"{where} ({lang})" for where, text in _texts() for lang in CORE_LANGUAGES if not (text.get(lang) or "").strip()
    ]
    assert missing == [], f"{len(missing)} texts lack a translation:\n" + "\n".join(missing)
