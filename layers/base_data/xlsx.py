"""XLSX files with the standard library: the first sheet's cells as strings, and writing one.

No spreadsheet package is installed; an XLSX is a zip of XML parts, and a
department's export needs only its first sheet's values (shared or inline
strings, numbers).  The writer makes the demo's department files.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from layers.core.errors import InvalidInputError

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_COL = re.compile(r"^([A-Z]+)")
_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RELS_TYPE = "application/vnd.openxmlformats-package.relationships+xml"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _relationship(kind: str, target: str) -> str:
    return (
        f'<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_DOC_RELS}/{kind}" Target="{target}"/></Relationships>'
    )


def _column(ref: str) -> int:
    letters = _COL.match(ref)
    n = 0
    for ch in letters.group(1) if letters else "A":
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_xlsx(data: bytes) -> list[list[str]]:
    """The first worksheet as rows of strings (empty cells are '')."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            shared = []
            if "xl/sharedStrings.xml" in names:
                root = ET.fromstring(z.read("xl/sharedStrings.xml"))
                shared = [
                    "".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t"))
                    for si in root.findall("m:si", _NS)
                ]
            sheet = sorted(n for n in names if n.startswith("xl/worksheets/sheet"))[0]
            root = ET.fromstring(z.read(sheet))
    except (zipfile.BadZipFile, IndexError, KeyError, ET.ParseError) as exc:
        raise InvalidInputError("not a readable XLSX file", code="bad_xlsx") from exc
    rows = []
    for row in root.iter(f"{{{_NS['m']}}}row"):
        cells: dict[int, str] = {}
        for position, c in enumerate(row.findall("m:c", _NS)):
            kind, v = c.get("t"), c.find("m:v", _NS)
            if kind == "s" and v is not None:
                value = shared[int(v.text or 0)]
            elif kind == "inlineStr":
                value = "".join(t.text or "" for t in c.iter(f"{{{_NS['m']}}}t"))
            else:
                value = v.text or "" if v is not None else ""
            ref = c.get("r")
            cells[_column(ref) if ref else position] = value
        rows.append([cells.get(i, "") for i in range(max(cells) + 1)] if cells else [])
    return rows


def write_xlsx(rows: list[list[str]]) -> bytes:
    """A one-sheet XLSX of string cells (inline strings)."""
    body = "".join(
        "<row>"
        + "".join(f'<c t="inlineStr"><is><t>{escape(str(v))}</t></is></c>' for v in row)
        + "</row>"
        for row in rows
    )
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{_PKG}/content-types">'
            f'<Default Extension="rels" ContentType="{_RELS_TYPE}"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEET_TYPE}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{_SHEET_TYPE}.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": _relationship("officeDocument", "xl/workbook.xml"),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_NS["m"]}" xmlns:r="{_DOC_RELS}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": _relationship("worksheet", "worksheets/sheet1.xml"),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{_NS["m"]}"><sheetData>{body}</sheetData></worksheet>'
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in parts.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + xml)
    return out.getvalue()
