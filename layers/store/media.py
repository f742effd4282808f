"""A content-addressed file store for case photos: `<root>/<aa>/<sha256>.<ext>`.

The same bytes are stored once, whoever sends them; a file is written to a
temporary name and renamed, so a reader never sees half a photo.  Thumbnails
live beside the originals as `<sha256>.thumb.jpg`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def digest(data: bytes) -> str:
    """The SHA-256 of `data` in hex: the file's name in the store."""
    return hashlib.sha256(data).hexdigest()


def path_of(root: Path, sha: str, suffix: str) -> Path:
    """Where the file with this digest (and suffix, e.g. `.jpg`, `.thumb.jpg`) lives."""
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError("not a SHA-256 hex digest")
    return root / sha[:2] / f"{sha}{suffix}"


def put(root: Path, sha: str, suffix: str, data: bytes) -> Path:
    """Store `data` under its digest (no-op when it is there already)."""
    target = path_of(root, sha, suffix)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
