"""Upload limits and safe extraction of zip archives (zipped Shapefiles, KMZ, exports).

Every entry is checked from the archive's directory before a single byte is extracted: no ``..`` or
absolute paths, no symlinks, not too many entries (whatever their sizes), and neither the declared
uncompressed size (of each entry and of all together) nor the compression ratio (of each entry and of the
whole archive) may exceed the limits (a zip bomb is refused up front). While extracting, the bytes
actually written are counted too, so an archive that lies about its sizes is stopped as well.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import MahalleError, PayloadTooLarge
from core.settings import get_settings

CHUNK = 1 << 20


class ImportLimits(BaseSettings):
    """Limits on what an import accepts; environment variables ``MAHALLE_IMPORT_…``."""

    model_config = SettingsConfigDict(env_prefix="MAHALLE_IMPORT_", extra="ignore")

    max_file_mb: int | None = Field(default=None, description="Largest file; default MAHALLE_MAX_UPLOAD_MB.")
    max_features: int = Field(default=2_000_000, description="Most features one import reads.")
    max_zip_entries: int = Field(default=1_000, description="Most entries in an uploaded archive.")
    max_unzipped_mb: int = Field(default=2_000, description="Largest total uncompressed size of an archive.")
    max_zip_ratio: int = Field(default=200, description="Largest compression ratio of an archive entry.")

    @property
    def max_file_bytes(self) -> int:
        return (self.max_file_mb or get_settings().max_upload_mb) * 1024 * 1024


class BadArchive(MahalleError):
    """An archive that cannot be imported safely (a dangerous entry, a broken file)."""


class ArchiveTooLarge(PayloadTooLarge):
    """An archive past a limit: its size, its entries, or what it unpacks to."""


def check_file_size(path: Path, limits: ImportLimits, name: str | None = None) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise PayloadTooLarge(
            f"{name or path.name}: the file is {size / 1048576:.1f} MB; the limit is "
            f"{limits.max_file_bytes // 1048576} MB."
        )


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _check_name(archive: str, info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in path.parts:
        raise BadArchive(f"{archive}: the entry {info.filename!r} points outside the archive; nothing was extracted.")
    if _is_symlink(info):
        raise BadArchive(f"{archive}: the entry {info.filename!r} is a symbolic link; nothing was extracted.")


def check_archive(path: Path, limits: ImportLimits, name: str | None = None) -> list[zipfile.ZipInfo]:
    """The archive's file entries, after every check; raises before anything is extracted."""
    label = name or path.name
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadArchive(f"{label}: not a readable zip archive ({exc}).") from None
    if len(infos) > limits.max_zip_entries:
        raise ArchiveTooLarge(f"{label}: {len(infos)} entries; at most {limits.max_zip_entries} are accepted.")
    total = packed = 0
    for info in infos:
        _check_name(label, info)
        total += info.file_size
        packed += info.compress_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > CHUNK and ratio > limits.max_zip_ratio:
            raise ArchiveTooLarge(
                f"{label}: {info.filename} expands {ratio:.0f} times (limit {limits.max_zip_ratio}); "
                "it looks like a zip bomb and was not extracted."
            )
    if total > limits.max_unzipped_mb * 1048576:
        raise ArchiveTooLarge(
            f"{label}: {total / 1048576:.0f} MB uncompressed; the limit is {limits.max_unzipped_mb} MB."
        )
    # The same ratio for the archive as a whole: many small entries, each under the per-entry check, add up.
    ratio = total / max(min(packed, path.stat().st_size), 1)  # compressed sizes cannot add up to more than the file
    if total > CHUNK and ratio > limits.max_zip_ratio:
        raise ArchiveTooLarge(
            f"{label}: its {len(infos)} entries expand {ratio:.0f} times together ({total / 1048576:.0f} MB; limit "
            f"{limits.max_zip_ratio} times); it looks like a zip bomb and was not extracted."
        )
    return [info for info in infos if not info.is_dir()]


def extract(path: Path, target: Path, limits: ImportLimits, name: str | None = None) -> list[Path]:
    """Check, then extract into ``target``; returns the extracted files."""
    label = name or path.name
    infos = check_archive(path, limits, name)
    budget = limits.max_unzipped_mb * 1048576
    out: list[Path] = []
    root = target.resolve()
    with zipfile.ZipFile(path) as zf:
        for info in infos:
            dest = (root / info.filename.replace("\\", "/")).resolve()
            if root not in dest.parents:
                raise BadArchive(f"{label}: the entry {info.filename!r} points outside the archive.")
            dest.parent.mkdir(parents=True, exist_ok=True)
            budget = _copy(zf, info, dest, budget, label)
            out.append(dest)
    return out


def _copy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: int, label: str) -> int:
    written = 0
    try:
        with zf.open(info) as src, dest.open("wb") as dst:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > info.file_size or written > budget:
                    raise ArchiveTooLarge(f"{label}: {info.filename} is larger than the archive declares.")
                dst.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadArchive(f"{label}: {info.filename} cannot be extracted ({exc}).") from None
    return budget - written
