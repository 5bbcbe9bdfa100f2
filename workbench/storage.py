"""Content-addressed file store under the data directory (images never go into the DB)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ALLOWED_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".pdf", ".bmp", ".webp"}


PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Every file this process creates from now on is 600 and every folder 700 (the database, its
    journal, page images, exports): they hold personal data, and other accounts on the machine
    have no business reading them. Called first thing by the CLI and the app; process-wide.
    Python's tempfile (mkstemp 600, mkdtemp 700), SQLite, OpenCV and openpyxl all honour it."""
    os.umask(PRIVATE_UMASK)


class StorageError(OSError):
    """Writing to the data directory failed (disk full, permissions); nothing was half-written."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    relative_path: str  # relative to the data directory


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_suffix(name: str) -> str:
    # The uploaded name never becomes a path: only a whitelisted suffix is kept.
    suffix = Path(name).suffix.lower()
    return suffix if suffix in ALLOWED_SUFFIXES else ".bin"


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StorageError(f"Could not write {target.name} to the data directory: {exc}") from exc


def store_original(data_dir: Path, data: bytes, original_name: str) -> StoredFile:
    """Store an uploaded file once, at originals/<sha[:2]>/<sha><suffix>."""
    digest = sha256_bytes(data)
    relative = Path("originals") / digest[:2] / f"{digest}{_safe_suffix(original_name)}"
    target = data_dir / relative
    if not target.exists():
        _atomic_write(target, data)
    return StoredFile(digest, relative.as_posix())


def store_derived_bytes(data_dir: Path, sha256: str, frame_index: int, kind: str, jpeg: bytes) -> str:
    """Store a derived JPEG (e.g. the deskewed page) keyed by its source; returns the relative path."""
    if not jpeg:
        raise StorageError(f"The {kind} image of {sha256[:12]} is empty")
    relative = Path("derived") / sha256[:2] / f"{sha256}_f{frame_index}_{kind}.jpg"
    _atomic_write(data_dir / relative, jpeg)
    return relative.as_posix()


def store_derived_image(data_dir: Path, sha256: str, frame_index: int, kind: str, image: np.ndarray) -> str:
    """Encode and store a derived image; returns the relative path."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise StorageError(f"Could not encode the {kind} image of {sha256[:12]}")
    return store_derived_bytes(data_dir, sha256, frame_index, kind, encoded.tobytes())


def read_image(data_dir: Path, relative_path: str) -> np.ndarray:
    path = data_dir / relative_path
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise StorageError(f"Stored image {relative_path} is missing or unreadable")
    return image
