"""A library as many files: one Callout file per API, in a folder or a zip.

Files are named after their API (`crm-lookup.yaml`), numbered when two names make the same
file name. A library exported into a folder again removes the Callout files of the APIs it no
longer has (`stale`), so that git shows the deletion and a re-import does not bring them back;
any other file of the folder is left as it is. A zip is read entry by entry with the same cap
as one file on the bytes it may expand to, whatever sizes its directory claims, so a zip bomb
stops at the cap.
"""

import io
import re
import stat
import unicodedata
import zipfile
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from callout.errors import Invalid
from callout.interchange import loading, native
from callout.interchange.schemas import ApiDocument
from callout.interchange.service import File

MAX_FILES = 1000
SUFFIXES = (".yaml", ".yml", ".json")
# What a library export into a folder records there: the client and the files it wrote.
EXPORTED = ".callout-export.yaml"


def file_stem(name: str) -> str:
    """A file name for an API: its name in lower case ASCII (accents dropped: "Über" is
    `uber`), runs of other characters as `-`. ASCII, as it also goes in a Content-Disposition
    header."""
    # Case folded first, so "ß" is "ss"; letters with no ASCII decomposition (ø, ł) go.
    folded = unicodedata.normalize("NFKD", name.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "api"


def file_names(names: Iterable[str]) -> Iterator[str]:
    """A YAML file name for each name, unique among them: `crm.yaml`, `crm-2.yaml`."""
    used: set[str] = set()
    for given in names:
        stem = file_stem(given)
        name, number = f"{stem}.yaml", 2
        while name in used:
            name, number = f"{stem}-{number}.yaml", number + 1
        used.add(name)
        yield name


def named(documents: Iterable[ApiDocument]) -> Iterator[tuple[str, str]]:
    """Each document's file name (unique) and text."""
    documents = list(documents)
    names = file_names(document.name for document in documents)
    for name, document in zip(names, documents, strict=True):
        yield name, native.dump(document)


def zipped(documents: Iterable[ApiDocument]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in named(documents):
            # A fixed time: the same library gives the same bytes.
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(entry, text, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def unzip(data: bytes, source: str) -> list[File]:
    """The Callout, JSON and YAML files in a zip, by name (other entries are passed over)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise loading.unreadable(source, "is not a zip file") from None
    files: list[File] = []
    left = loading.MAX_BYTES
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not info.filename.lower().endswith(SUFFIXES):
                continue
            if len(files) == MAX_FILES:
                raise loading.unreadable(source, f"holds more than {MAX_FILES} files")
            with archive.open(info) as entry:
                content = entry.read(left + 1)
            left -= len(content)
            if left < 0:
                raise loading.unreadable(
                    source, f"expands to more than {loading.MAX_BYTES:,} bytes"
                )
            files.append(File(f"{source}/{info.filename}", content))
    if not files:
        raise loading.unreadable(source, "holds no .yaml, .yml or .json file")
    return files


@dataclass(frozen=True)
class Folder:
    """What a folder gives an import: its files, and the names of what it passed over."""

    files: list[File]
    passed_over: list[str]


def read_folder(folder: Path) -> Folder:
    """The Callout, JSON and YAML files of a folder, by name; its subfolders and other files
    are passed over, and named. Hidden ones (`.git/`, an export's record) are neither read
    nor named. A folder without any such file is refused: an import of it would do nothing."""
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    paths = [p for p in entries if p.is_file() and p.suffix.lower() in SUFFIXES]
    importable = set(paths)
    passed_over = [
        f"{p.name}/ (a folder)" if p.is_dir() else p.name for p in entries if p not in importable
    ]
    if not paths:
        listed = f" (passed over: {', '.join(passed_over)})" if passed_over else ""
        raise loading.unreadable(str(folder), f"holds no .yaml, .yml or .json file{listed}")
    if len(paths) > MAX_FILES:
        raise loading.unreadable(str(folder), f"holds more than {MAX_FILES} files")
    files = []
    for path in paths:
        if path.stat().st_size > loading.MAX_BYTES:
            raise loading.unreadable(str(path), f"is larger than {loading.MAX_BYTES:,} bytes")
        files.append(File(str(path), path.read_bytes()))
    return Folder(files, passed_over)


def stale(folder: Path, client: str, written: Collection[str]) -> list[Path]:
    """The Callout files an earlier export of `client` into the folder wrote (its record,
    EXPORTED) and this one, which wrote `written`, did not: those of APIs it no longer has.
    Nothing else is ever named: not in a folder without a record or with another client's,
    not a file of the user's, not a link. Names are compared as a case-insensitive file
    system would."""
    try:
        record = loading.parse((folder / EXPORTED).read_bytes(), EXPORTED)
    except FileNotFoundError:
        return []
    except (OSError, Invalid):  # an unreadable record: as if there were none
        return []
    if not isinstance(record, dict) or record.get("client") != client:
        return []
    kept = {name.casefold() for name in written}
    found = []
    for name in record.get("files") or []:
        if not isinstance(name, str) or name != Path(name).name or name.casefold() in kept:
            continue
        path = folder / name
        if path.suffix.lower() not in (".yaml", ".yml"):
            continue
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                continue
            with path.open("rb") as file:
                head = file.read(4096)
        except FileNotFoundError:
            continue
        if native.is_callout_file(head):
            found.append(path)
    return found


def record(client: str, written: Iterable[str]) -> str:
    """The record of an export into a folder, kept there as EXPORTED: the next export of
    the same client removes what this one wrote and it does not."""
    return native.text({"client": client, "files": sorted(written)})
