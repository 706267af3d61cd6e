"""SQL files of the data model, read by the migrations."""

from importlib.resources import files


def read(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
