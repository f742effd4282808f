"""ID numbers and phones of persons: a keyed hash to find them, a mask to show them.

The plain number never reaches the database, the logs or a response: imports
hash it with HMAC-SHA256 under the deployment's key as soon as it is read, so
two departments' files meet on the hash (dedup), and a stolen table does not
tell who anybody is (an unkeyed hash of an 18-digit ID is brute-forced in
minutes).  The key is `WANGGE_BASE_DATA_KEY`, else a random key kept in
`$WANGGE_HOME/base-data.key` (made on first use, mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

KEY_FILE = "base-data.key"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


class BaseDataSettings(BaseSettings):
    """The hashing key of ID numbers and phones (`WANGGE_BASE_DATA_KEY`)."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    base_data_key: SecretStr | None = Field(
        default=None,
        description="HMAC key of ID numbers and phones (else $WANGGE_HOME/base-data.key).",
    )
    home: Path = Field(default=Path("~/.wangge"), description="Where the key file is kept.")


def _key_file(home: Path) -> bytes:
    path = home.expanduser() / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: two processes making the key at once agree on the first one
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


@lru_cache(maxsize=1)
def hashing_key() -> bytes:
    """The deployment's key (read once per process)."""
    settings = BaseDataSettings()
    if settings.base_data_key is not None:
        return settings.base_data_key.get_secret_value().encode()
    return _key_file(settings.home)


def keyed_hash(value: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of `value` (hex, 64 characters)."""
    return hmac.new(key or hashing_key(), value.encode(), hashlib.sha256).hexdigest()


def clean_id(raw: str) -> str:
    """An ID number as written (spaces, full-width digits, lower-case x) in its plain form."""
    text = raw.strip().translate(_FULL_WIDTH).replace(" ", "").upper()
    return text


_FULL_WIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"ｘ": "X", "Ｘ": "X"})


def check_digit(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def id_problem(number: str) -> str | None:
    """Why `number` (cleaned) is not a valid resident ID number, or None.

    Codes: ``id_shape`` (not 17 digits and a check character), ``id_date``
    (no such birth date), ``id_checksum`` (the GB 11643 check digit is wrong).
    """
    if not _ID_SHAPE.match(number):
        return "id_shape"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "id_date"
    if born.year < 1880:
        return "id_date"
    if check_digit(number[:17]) != number[17]:
        return "id_checksum"
    return None


def mask_id(number: str) -> str:
    """`510108199001011234` → `5101**********1234`: province and city, and the last four."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def id_facts(number: str) -> tuple[int, str]:
    """Birth year and sex ('M' odd, 'F' even 17th digit) an ID number states."""
    return int(number[6:10]), "M" if int(number[16]) % 2 else "F"


def clean_phone(raw: str) -> str:
    """Digits only (full-width too), so `138-1234-5678` and `13812345678` hash alike."""
    return "".join(ch for ch in raw.translate(_FULL_WIDTH) if ch.isdigit())
