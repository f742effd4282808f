"""GB 11643 checks of a whole column of ID numbers at once (numpy), and their keyed hashes.

`privacy.id_problem` checks one number with a regex, a `date` and a sum: a
few microseconds, a few seconds for a district's million.  Here the column is
one byte array of shape (n, 18): the shape, the birth date and the check
digit are array operations.  Only the numbers this does not pass (not 18
ASCII characters, or failing a check) go through `id_problem`, which names the
reason exactly as a single row's check does.
"""

from __future__ import annotations

import hmac

import numpy as np

from layers.base_data.privacy import hashing_key, id_problem

_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int32)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_DAYS = np.array((0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), dtype=np.int32)


def _passing(digits: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Which rows of (n, 18) ASCII codes are valid numbers (digits, a real date, the check)."""
    first = digits[:, :17]
    ok = ((first >= 0) & (first <= 9)).all(axis=1)
    ok &= ((digits[:, 17] >= 0) & (digits[:, 17] <= 9)) | (codes[:, 17] == ord("X"))
    d = np.where(ok[:, None], digits, 0)
    year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
    month = d[:, 10] * 10 + d[:, 11]
    day = d[:, 12] * 10 + d[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _DAYS[np.clip(month, 0, 12)] + (leap & (month == 2))
    ok &= (year >= 1880) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    expected = _CHECK[(d[:, :17] * _WEIGHTS).sum(axis=1) % 11]
    return ok & (expected == codes[:, 17])


def id_problems(numbers: list[str]) -> tuple[list[str | None], np.ndarray, np.ndarray]:
    """Per cleaned number its problem code (None: valid), birth year and sex ('M'/'F').

    Year and sex are meaningful where the problem is None.
    """
    n = len(numbers)
    plain = np.fromiter((len(x) == 18 and x.isascii() for x in numbers), dtype=bool, count=n)
    idx = np.flatnonzero(plain)
    good = np.zeros(n, dtype=bool)
    years = np.zeros(n, dtype=np.int32)
    odd = np.zeros(n, dtype=bool)
    if idx.size:
        joined = "".join([numbers[i] for i in idx]).encode("ascii")
        codes = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 18)
        digits = codes.astype(np.int32) - ord("0")
        good[idx] = _passing(digits, codes)
        years[idx] = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
        odd[idx] = digits[:, 16] % 2 == 1
    problems: list[str | None] = [None] * n
    for i in np.flatnonzero(~good):
        problems[i] = id_problem(numbers[i])
        if problems[i] is None:  # valid after all (digits of another script): as one row does
            years[i], odd[i] = int(numbers[i][6:10]), int(numbers[i][16]) % 2 == 1
    sexes = np.where(odd, "M", "F")
    return problems, years, sexes


def keyed_hashes(values: list[str], key: bytes | None = None) -> list[str]:
    """HMAC-SHA256 (hex) of every value: `privacy.keyed_hash`, in OpenSSL's one-shot call."""
    k = key or hashing_key()
    return [hmac.digest(k, v.encode(), "sha256").hex() for v in values]
