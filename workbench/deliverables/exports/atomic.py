"""Writing export files so that a failure (a bad value, a full disk, a kill) leaves nothing under the
final name: everything is written next to the target under a hidden temporary name, then renamed.

The temporary file (mode 600) and folder (mode 700) are created private; the rename keeps that.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def _naming(out: Path) -> Iterator[None]:
    """An OSError while making room for `out` names `out`, not the hidden temporary name: the
    person who typed --out /proc/x.xlsx is told about /proc/x.xlsx."""
    try:
        yield
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(out)) from exc


class TargetOccupiedError(FileExistsError):
    """The target folder exists and holds files this export did not write; it is left alone."""


@contextmanager
def atomic_file(out: Path) -> Iterator[BinaryIO]:
    """Yield a binary handle; on success the file appears as `out` at once, on any error not at all."""
    with _naming(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def atomic_folder(out: Path, replaceable: Callable[[Path], bool]) -> Iterator[Path]:
    """Yield an empty temporary folder beside `out`; on success it becomes `out`.

    An existing `out` is replaced only if it is empty or every entry in it passes `replaceable`
    (files of an earlier export of the same book); otherwise TargetOccupiedError, before any work.
    """
    if out.exists() and not (out.is_dir() and all(replaceable(p) for p in out.iterdir())):
        raise TargetOccupiedError(f"{out} exists and holds other files")
    with _naming(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        yield tmp
        if out.exists():
            # Two renames: the old export is moved aside whole, so `out` is never half old, half new.
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
