"""Files as they come from billing systems: CSV in UTF-8, UTF-8 with BOM or GB18030
(which covers GBK), sniffed from the bytes; XLSX and XLS through calamine (a Rust
reader: a sheet of a million rows in seconds, cells typed as the sheet has them)."""
from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from flask_babel import lazy_gettext as _l

ZIP = b"PK\x03\x04"  # XLSX is a zip
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # XLS (Excel 97-2003)
CHUNK = 1 << 20


class UnreadableFile(ValueError):
    """The file is not a spreadsheet or text we can read; `reason` says why."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


@dataclass
class Table:
    """The header row and the data rows (with their line numbers) of the first sheet."""

    format: str  # csv, xlsx
    encoding: str  # utf-8, utf-8-sig, gb18030; "" for a spreadsheet
    header_line: int
    headers: list
    rows: Iterator[tuple[int, list]]
    rows_total: int  # data rows, counted before reading (0 when unknown)


def sniff_encoding(path: Path) -> str:
    """UTF-8 with BOM, UTF-8, else GB18030; checked over the whole file, since a file
    can be plain ASCII for a megabyte before its first Chinese name."""
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        else:
            encoding = "utf-8"
        f.seek(0)
        for candidate in (encoding, "gb18030"):
            decoder = codecs.getincrementaldecoder(candidate)()
            try:
                while chunk := f.read(CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return candidate
            except UnicodeDecodeError:
                f.seek(0)
    raise UnreadableFile(_l("The file is neither UTF-8 nor GB18030/GBK text."))


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(CHUNK), b""))


def _non_empty(rows, first_line: int = 1):
    for line, cells in enumerate(rows, start=first_line):
        if any(c not in (None, "") and (not isinstance(c, str) or c.strip()) for c in cells):
            yield line, cells


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list]]:
    with path.open("r", encoding=encoding, newline="") as f:
        sample = f.read(64 * 1024)
        f.seek(0)
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        reader = csv.reader(f, delimiter=delimiter)
        line = 1
        for cells in reader:
            if "".join(cells).strip():  # a row of empty cells (",,,") is no row
                yield line, cells
            line = reader.line_num + 1


def _sheet_rows(path: Path) -> tuple[Iterator[tuple[int, list]], int]:
    from python_calamine import CalamineWorkbook
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
    except Exception as e:  # calamine raises its own errors for broken files
        raise UnreadableFile(_l("The spreadsheet cannot be read: %(why)s", why=str(e)[:200])
                             ) from None
    return _non_empty(sheet.iter_rows()), max(sheet.total_height - 1, 0)


def open_table(path: Path) -> Table:
    """The first sheet of a spreadsheet, or the rows of a CSV, by what the bytes are."""
    with path.open("rb") as f:
        magic = f.read(8)
    if magic.startswith(ZIP) or magic == OLE:
        rows, total = _sheet_rows(path)
        fmt, encoding = "xlsx", ""
    else:
        if b"\x00" in magic:
            raise UnreadableFile(_l("This is not a CSV or Excel file."))
        encoding = sniff_encoding(path)
        rows, total = _csv_rows(path, encoding), max(_count_lines(path) - 1, 0)
        fmt = "csv"
    first = next(rows, None)
    if first is None:
        raise UnreadableFile(_l("The file is empty."))
    line, headers = first
    return Table(fmt, encoding, line, list(headers), rows, total)
