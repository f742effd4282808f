"""The rejects file: one line per refused row, its reason code and why, in UTF-8 with a BOM.

The BOM makes Excel (what departments open it with) read the Chinese right.
No plain ID number is in it: the checks name the masked form only.
"""

from __future__ import annotations

import csv
import io

HEADER = ("row", "reason", "detail")


def rejects_csv(rejects: list[tuple[int, str, str]]) -> bytes:
    """The rejects as CSV bytes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rejects)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
