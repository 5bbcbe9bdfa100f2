"""Turn uploaded files (images, multi-page TIFFs, PDFs, folders, ZIPs) into BGR page images.

Every failure of a single file becomes one ``ImageLoadError`` with an English message, so a
batch upload can skip that file and carry on with the rest. No file handed in disappears: folders
and ZIPs yield every file they hold. A page format's name or an image/PDF signature in its first
bytes (a .gif, a .jpeg2000 scan) makes a file a page candidate; every other file (a stray
document, archiver metadata, a nested ZIP) comes back named, with a refusal (``InputFile.refusal``).
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.fields.text import strip_controls

# 120 MP is far above any sane page scan (A3 at 600 dpi is ~70 MP) yet small enough that a
# decoded RGB copy still fits comfortably in memory.
DEFAULT_MAX_PIXELS = 120_000_000
# Uncompressed size limit per ZIP member: a guard against ZIP bombs.
MAX_ZIP_MEMBER_BYTES = 512 * 1024 * 1024

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = IMAGE_SUFFIXES + PDF_SUFFIXES
# Files that archivers and desktops add and that are never pages.
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
# First bytes of the formats Pillow or PDFium can read: a scan named oddly (.jpeg2000, .gif, no
# suffix) is still a page candidate; a false match only turns into a failed page that names it.
_PAGE_SIGNATURES = (
    b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+",
    b"BM", b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51", b"%PDF-",
)
HEAD_BYTES = 16
NOT_A_PAGE = "refused: not an image, PDF or ZIP (neither its name nor its first bytes are a page format)."


class ImageLoadError(ValueError):
    """One input file cannot be turned into page images; the message says why."""


@dataclass(frozen=True)
class LoadedImage:
    image: np.ndarray  # BGR uint8, EXIF orientation applied
    source_name: str
    frame_index: int  # 0-based page/frame inside the source file


@dataclass(frozen=True)
class InputFile:
    """One candidate page file, from disk or from inside a ZIP (then ``data`` holds its bytes)."""

    name: str  # display name, e.g. "scans/page_2.jpg" or "book.zip/page_2.jpg"
    path: Path | None = None
    data: bytes | None = None
    # Why this file will not be a page (English), for a file that is listed but never read.
    refusal: str | None = None

    def read_bytes(self) -> bytes:
        if self.refusal is not None:
            raise ImageLoadError(f"{self.name}: {self.refusal}")
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise ImageLoadError(f"{self.name}: cannot read the file ({exc.strerror or exc}).") from exc


def natural_sort_key(name: str) -> list[object]:
    """Sort key so that page_2 comes before page_10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def load_images(
    source: str | Path | bytes,
    name: str | None = None,
    pdf_dpi: int = 200,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[LoadedImage]:
    """Decode every page of one file (path or raw bytes) into BGR uint8 images."""
    if isinstance(source, bytes):
        data = source
        name = name or "upload"
    else:
        path = Path(source)
        name = name or path.name
        data = InputFile(name=name, path=path).read_bytes()
    if not data:
        raise ImageLoadError(f"{name}: the file is empty (0 bytes).")
    if data.lstrip()[:5] == b"%PDF-":
        return _load_pdf(data, name, pdf_dpi, max_pixels)
    return _load_raster(data, name, max_pixels)


def _load_raster(data: bytes, name: str, max_pixels: int) -> list[LoadedImage]:
    with warnings.catch_warnings():
        # We apply our own pixel limit (checked on the header); Pillow's warning would be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return _decode_frames(data, name, max_pixels)


def _decode_frames(data: bytes, name: str, max_pixels: int) -> list[LoadedImage]:
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"{name}: the image is absurdly large ({exc}); refusing to decode it.") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"{name}: not an image file (JPEG, PNG, TIFF or PDF expected).") from exc
    except OSError as exc:
        raise ImageLoadError(f"{name}: the image file is unreadable ({exc}).") from exc
    except Exception as exc:  # noqa: BLE001 — e.g. ValueError from a TIFF header pointing past 2**63
        raise ImageLoadError(f"{name}: the image file is damaged ({type(exc).__name__}: {exc}).") from exc
    pages: list[LoadedImage] = []
    with image:
        try:
            frame_count = int(getattr(image, "n_frames", 1))  # TIFF walks every page's header here
        except Exception as exc:  # noqa: BLE001 — a damaged later page fails here, whatever its type
            raise ImageLoadError(f"{name}: the image data is damaged (counting its pages: {exc})") from exc
        for frame_index in range(frame_count):
            try:
                image.seek(frame_index)
                # The header size is known before any pixel is decoded: check it first.
                _check_pixel_count(image.size, name, max_pixels, frame_index)
                pages.append(LoadedImage(_pil_to_bgr(image), name, frame_index))
            except ImageLoadError:
                raise
            except Image.DecompressionBombError as exc:
                raise ImageLoadError(f"{name}: the image is absurdly large ({exc}).") from exc
            except Exception as exc:  # noqa: BLE001 — damaged files make Pillow raise many types
                # (OSError, ValueError, TypeError "Missing dimensions", KeyError, struct.error...)
                detail = "the file is truncated" if "truncat" in str(exc).lower() else str(exc) or type(exc).__name__
                raise ImageLoadError(
                    f"{name}: the image data is damaged or truncated (frame {frame_index + 1}: {detail})."
                ) from exc
    return pages


def _check_pixel_count(size: tuple[int, int], name: str, max_pixels: int, frame_index: int = 0) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{name}: the image has no pixels ({width}x{height}).")
    if width * height > max_pixels:
        raise ImageLoadError(
            f"{name}: page {frame_index + 1} is {width}x{height} = {width * height / 1e6:.0f} megapixels, "
            f"above the {max_pixels / 1e6:.0f} MP limit; it looks like a decompression bomb or a "
            "wrongly scanned file. Rescan at 200-400 dpi."
        )


def _pil_to_bgr(frame: Image.Image) -> np.ndarray:
    """Decode one frame, apply EXIF orientation and flatten to BGR uint8 on white."""
    frame.load()
    upright = ImageOps.exif_transpose(frame) or frame
    if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit grey scans: stretch to 8 bits by the actual range.
        values = np.asarray(upright, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / max(high - low, 1.0))
        grey = scaled.astype(np.uint8)
        return np.dstack([grey, grey, grey])
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        upright = Image.alpha_composite(canvas, rgba)
    rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _load_pdf(data: bytes, name: str, dpi: int, max_pixels: int) -> list[LoadedImage]:
    import pypdfium2 as pdfium  # imported lazily: only PDF uploads need it

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium refuses documents without pages at open time, with no error code of its own.
        raise ImageLoadError(
            f"{name}: the PDF cannot be opened; it is damaged, password-protected or has no pages ({exc})."
        ) from exc
    try:
        if len(document) == 0:
            raise ImageLoadError(f"{name}: the PDF has no pages.")
        scale = dpi / 72.0
        pages: list[LoadedImage] = []
        for index in range(len(document)):
            try:
                page = document[index]  # a page tree pointing at a missing object fails here
                width_pt, height_pt = page.get_size()
            except pdfium.PdfiumError as exc:
                raise ImageLoadError(f"{name}: page {index + 1} of the PDF cannot be loaded ({exc}).") from exc
            _check_pixel_count((round(width_pt * scale), round(height_pt * scale)), name, max_pixels, index)
            try:
                rgb = page.render(scale=scale).to_numpy()
            except pdfium.PdfiumError as exc:
                raise ImageLoadError(f"{name}: page {index + 1} of the PDF cannot be rendered ({exc}).") from exc
            pages.append(LoadedImage(_rendered_to_bgr(rgb), name, index))
        return pages
    finally:
        document.close()


def _rendered_to_bgr(array: np.ndarray) -> np.ndarray:
    # pypdfium2 renders BGR(A)/BGRx by default; grey renders have a single channel.
    if array.ndim == 2:
        return np.ascontiguousarray(np.dstack([array, array, array]))
    return np.ascontiguousarray(array[:, :, :3])


def iter_input_files(paths: Iterable[str | Path]) -> list[InputFile]:
    """Expand files, folders (recursively) and ZIPs into input files, naturally sorted per source.

    Every file found is returned: whether it is a page is decided by its content when it is loaded
    (a .gif or .jp2 scan is one; a stray document becomes a failed page naming it). Archiver and
    system files come back with a refusal. Raises ImageLoadError for a missing path or a ZIP that
    is damaged or carries unsafe member names (path traversal, absolute paths).
    """
    files: list[InputFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            members = [p for p in path.rglob("*") if p.is_file()]
            for member in sorted(members, key=lambda p: natural_sort_key(p.relative_to(path).as_posix())):
                relative = member.relative_to(path).as_posix()
                refusal = _refusal(relative) or _format_refusal(relative, partial(_head, member))
                files.extend(_expand_file(member, f"{path.name}/{relative}", refusal))
        elif path.is_file():
            files.extend(_expand_file(path, path.name, None))
        else:
            raise ImageLoadError(f"{path}: no such file or folder.")
    return files


def _expand_file(path: Path, name: str, refusal: str | None) -> list[InputFile]:
    if refusal is not None:
        return [InputFile(name=name, path=path, refusal=refusal)]
    if path.suffix.lower() == ".zip":
        return zip_members(InputFile(name=name, path=path).read_bytes(), name)
    return [InputFile(name=name, path=path)]


def _refusal(member_name: str) -> str | None:
    """Why a file inside a folder or ZIP is not offered as a page; None: it is (its content decides)."""
    parts = PurePosixPath(member_name).parts
    if any(part == "__MACOSX" for part in parts):
        return "refused: macOS archive metadata (__MACOSX), not a page."
    if any(part.startswith(".") for part in parts):
        return "refused: hidden file or folder (name starting with '.'), not a page."
    if parts and parts[-1].lower() in _JUNK_NAMES:
        return "refused: system file, not a page."
    return None


def _format_refusal(name: str, head: Callable[[], bytes]) -> str | None:
    """None for a page format's name, a ZIP, or a page signature in the first bytes; else why not."""
    if name.lower().endswith(SUPPORTED_SUFFIXES + (".zip",)):
        return None
    return None if head().lstrip().startswith(_PAGE_SIGNATURES) else NOT_A_PAGE


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        return b""  # unreadable: refused here (reading it as a page would fail the same way)


def zip_members(data: bytes, zip_name: str) -> list[InputFile]:
    """Every file inside a ZIP, read in memory (nothing is extracted to disk); archiver files and
    nested ZIPs come back as refusals, the rest as page candidates."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImageLoadError(f"{zip_name}: not a valid ZIP archive ({exc}).") from exc
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        for info in infos:
            _check_member_name(info.filename, zip_name)
            _check_member_name(_member_name(info), zip_name)
        result: list[InputFile] = []
        for info in sorted(infos, key=lambda i: natural_sort_key(_member_name(i))):
            member = _member_name(info)
            refusal = _refusal(member)
            if refusal is None and member.lower().endswith(".zip"):
                refusal = "refused: a ZIP inside a ZIP is not opened; unpack it and upload its files."
            refusal = refusal or _format_refusal(member, partial(_member_head, archive, info))
            if refusal is not None:
                result.append(InputFile(name=f"{zip_name}/{member}", refusal=refusal))
                continue
            if info.file_size > MAX_ZIP_MEMBER_BYTES:
                raise ImageLoadError(
                    f"{zip_name}: member '{member}' would unpack to {info.file_size / 1e6:.0f} MB, "
                    f"above the {MAX_ZIP_MEMBER_BYTES / 1e6:.0f} MB limit."
                )
            try:
                member_data = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise ImageLoadError(f"{zip_name}: member '{member}' cannot be read ({exc}).") from exc
            result.append(InputFile(name=f"{zip_name}/{member}", data=member_data))
    return result


def _member_head(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as handle:
            return handle.read(HEAD_BYTES)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        return b""  # a member that cannot be read is refused by name, like any non-page


def _member_name(info: zipfile.ZipInfo) -> str:
    # zipfile cuts a name at its first NUL ("trang\x00.jpg" -> "trang"); the whole name, without
    # its control characters, is what the contractor will recognise.
    return strip_controls(info.orig_filename).strip() or info.filename


def _check_member_name(member: str, zip_name: str) -> None:
    # Even though nothing is extracted, such names mark a hostile or broken archive: refuse it.
    normalised = member.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        raise ImageLoadError(f"{zip_name}: member '{member}' has an absolute path; the ZIP is refused.")
    if ".." in PurePosixPath(normalised).parts:
        raise ImageLoadError(f"{zip_name}: member '{member}' points outside the archive ('..'); the ZIP is refused.")
