"""Turn uploaded files (images, multi-page TIFFs, PDFs, folders, ZIPs) into BGR page images.

Every failure of a single file becomes one ``ImageLoadError`` with an English message, so a
batch upload can skip that file and carry on with the rest. No file handed in disappears: folders
and ZIPs yield every file they hold. A page format's name or an image/PDF signature in its first
bytes (a .gif, a .jpeg2000 scan) makes a file a page candidate; every other file (a stray
document, archiver metadata, a nested ZIP) comes back named, with a refusal (``InputFile.refusal``).

One upload must not exhaust the server's memory, whatever its size: a file's pages are decoded one
at a time when asked for (``PageImages``; a PDF is counted without rendering), and ZIP members are
read one at a time, when registered, under caps on their size, their compression ratio and the
archive's total (``ZipLimits``); a member beyond a cap is refused by name.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, overload

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.fields.text import strip_controls

if TYPE_CHECKING:
    import pypdfium2 as pdfium

# 120 MP is far above any sane page scan (A3 at 600 dpi is ~70 MP) yet small enough that a
# decoded RGB copy still fits comfortably in memory.
DEFAULT_MAX_PIXELS = 120_000_000
MIB = 1024 * 1024

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
class ZipLimits:
    """Caps on what a ZIP may unpack to (ZIP bombs): a member beyond one is refused by name.

    A scan (JPEG, PNG, PDF) hardly compresses, and even a blank uncompressed TIFF stays far below
    100:1; runs of zeros, the stuff of bombs, deflate at about 1000:1.
    """

    member_bytes: int = 256 * MIB  # one member, uncompressed: it is read into memory whole
    total_bytes: int = 2048 * MIB  # all accepted members together (disk, and time)
    ratio: float = 100.0  # uncompressed / compressed size of one member
    ratio_floor_bytes: int = MIB  # members smaller than this may compress as well as they like


ZIP_LIMITS = ZipLimits()


@dataclass(frozen=True)
class LoadedImage:
    image: np.ndarray  # BGR uint8, EXIF orientation applied
    source_name: str
    frame_index: int  # 0-based page/frame inside the source file


@dataclass(frozen=True)
class ZipMember:
    """Where one ZIP member lives; its bytes are read only when the member is registered, so a
    batch holds one member in memory at a time, never the whole archive's contents."""

    archive: Path | bytes  # the ZIP on disk, or the uploaded ZIP's bytes (shared, not copied)
    index: int  # position in the archive's member list (names may repeat)
    limit: int  # the most bytes it may unpack to, whatever its header claims

    def read(self, name: str) -> bytes:
        try:
            with _open_zip(self.archive) as archive, archive.open(archive.infolist()[self.index]) as handle:
                data = handle.read(self.limit + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
            raise ImageLoadError(f"{name}: the ZIP member cannot be read ({exc}).") from exc
        if len(data) > self.limit:  # its header understated its size: a hostile archive
            raise ImageLoadError(f"{name}: refused: unpacks to more than {self.limit / MIB:.0f} MB, "
                                 "more than its header says.")
        return data


@dataclass(frozen=True)
class InputFile:
    """One candidate page file: on disk (``path``), in memory (``data``) or inside a ZIP (``member``)."""

    name: str  # display name, e.g. "scans/page_2.jpg" or "book.zip/page_2.jpg"
    path: Path | None = None
    data: bytes | None = None
    # Why this file will not be a page (English), for a file that is listed but never read.
    refusal: str | None = None
    member: ZipMember | None = None

    def read_bytes(self) -> bytes:
        if self.refusal is not None:
            raise ImageLoadError(f"{self.name}: {self.refusal}")
        if self.data is not None:
            return self.data
        if self.member is not None:
            return self.member.read(self.name)
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise ImageLoadError(f"{self.name}: cannot read the file ({exc.strerror or exc}).") from exc


def natural_sort_key(name: str) -> list[object]:
    """Sort key so that page_2 comes before page_10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class PageImages(Sequence[LoadedImage]):
    """The pages of one file, each decoded when it is asked for and not kept: counting a 500-page
    PDF renders nothing, and walking it holds one page's pixels at a time (about 11 MB for A4 at
    200 dpi), not 500. The file was checked when this was made (see load_images)."""

    def __init__(self, count: int, decode: Callable[[int], LoadedImage]) -> None:
        self._count = count
        self._decode = decode

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> LoadedImage: ...

    @overload
    def __getitem__(self, index: slice) -> list[LoadedImage]: ...

    def __getitem__(self, index: int | slice) -> LoadedImage | list[LoadedImage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise IndexError(f"page {index} of {self._count}")
        return self._decode(position)

    def __iter__(self) -> Iterator[LoadedImage]:
        return (self._decode(i) for i in range(self._count))


def load_images(
    source: str | Path | bytes,
    name: str | None = None,
    pdf_dpi: int = 200,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> PageImages:
    """The pages of one file (path or raw bytes) as BGR uint8 images, decoded on access.

    A file that cannot be read raises ImageLoadError here: a PDF's pages are all opened and their
    sizes checked (without rendering), an image's frames are all decoded once (one at a time).
    """
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


def _load_raster(data: bytes, name: str, max_pixels: int) -> PageImages:
    frames = _decode_frames(data, name, max_pixels)
    first = next(frames, None)
    if first is None:
        raise ImageLoadError(f"{name}: the image has no frames.")
    # The other frames are decoded once each, so a damaged one fails now, and not kept.
    count = 1 + sum(1 for _ in frames)
    if count == 1:
        return PageImages(1, lambda _index: first)
    # A multi-page TIFF is decoded again, frame by frame, when walked: its frames are never all held.
    return PageImages(count, partial(_decode_frame, data, name, max_pixels))


def _decode_frame(data: bytes, name: str, max_pixels: int, index: int) -> LoadedImage:
    with closing(_decode_frames(data, name, max_pixels, start=index)) as frames:
        frame = next(frames, None)
    if frame is None:
        raise ImageLoadError(f"{name}: frame {index + 1} no longer exists.")
    return frame


@contextmanager
def _quiet_bomb_warning() -> Iterator[None]:
    # We apply our own pixel limit (checked on the header); Pillow's warning would be noise. Never
    # held across a yield: the filter is process-wide.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _decode_frames(data: bytes, name: str, max_pixels: int, start: int = 0) -> Generator[LoadedImage, None, None]:
    """Each frame from `start` on, decoded one at a time (the caller keeps what it needs)."""
    try:
        with _quiet_bomb_warning():
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"{name}: the image is absurdly large ({exc}); refusing to decode it.") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"{name}: not an image file (JPEG, PNG, TIFF or PDF expected).") from exc
    except OSError as exc:
        raise ImageLoadError(f"{name}: the image file is unreadable ({exc}).") from exc
    except Exception as exc:  # noqa: BLE001 — e.g. ValueError from a TIFF header pointing past 2**63
        raise ImageLoadError(f"{name}: the image file is damaged ({type(exc).__name__}: {exc}).") from exc
    with image:
        try:
            frame_count = int(getattr(image, "n_frames", 1))  # TIFF walks every page's header here
        except Exception as exc:  # noqa: BLE001 — a damaged later page fails here, whatever its type
            raise ImageLoadError(f"{name}: the image data is damaged (counting its pages: {exc})") from exc
        for frame_index in range(start, frame_count):
            try:
                image.seek(frame_index)
                # The header size is known before any pixel is decoded: check it first.
                _check_pixel_count(image.size, name, max_pixels, frame_index)
                with _quiet_bomb_warning():
                    frame = LoadedImage(_pil_to_bgr(image), name, frame_index)
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
            yield frame


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


def _load_pdf(data: bytes, name: str, dpi: int, max_pixels: int) -> PageImages:
    """Open every page and check its size, rendering none: a damaged page tree or a poster-sized
    page fails here; the pixels come page by page from the returned sequence."""
    scale = dpi / 72.0
    with _open_pdf(data, name) as document:
        count = len(document)
        if count == 0:
            raise ImageLoadError(f"{name}: the PDF has no pages.")
        for index in range(count):
            page = _pdf_page(document, name, index)
            width_pt, height_pt = page.get_size()
            page.close()
            _check_pixel_count((round(width_pt * scale), round(height_pt * scale)), name, max_pixels, index)
    return PageImages(count, partial(_render_pdf_page, data, name, scale))


@contextmanager
def _open_pdf(data: bytes, name: str) -> Iterator[pdfium.PdfDocument]:
    import pypdfium2 as pdfium  # imported lazily: only PDF uploads need it

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium refuses documents without pages at open time, with no error code of its own.
        raise ImageLoadError(
            f"{name}: the PDF cannot be opened; it is damaged, password-protected or has no pages ({exc})."
        ) from exc
    try:
        yield document
    finally:
        document.close()


def _pdf_page(document: pdfium.PdfDocument, name: str, index: int) -> pdfium.PdfPage:
    import pypdfium2 as pdfium

    try:
        return document[index]  # a page tree pointing at a missing object fails here
    except pdfium.PdfiumError as exc:
        raise ImageLoadError(f"{name}: page {index + 1} of the PDF cannot be loaded ({exc}).") from exc


def _render_pdf_page(data: bytes, name: str, scale: float, index: int) -> LoadedImage:
    import pypdfium2 as pdfium

    with _open_pdf(data, name) as document:
        page = _pdf_page(document, name, index)
        try:
            rgb = page.render(scale=scale).to_numpy()
        except pdfium.PdfiumError as exc:
            raise ImageLoadError(f"{name}: page {index + 1} of the PDF cannot be rendered ({exc}).") from exc
        finally:
            page.close()
        return LoadedImage(_rendered_to_bgr(rgb), name, index)


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
        return zip_members(path, name)  # read from disk member by member, never whole
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


def zip_members(source: bytes | Path, zip_name: str, limits: ZipLimits = ZIP_LIMITS) -> list[InputFile]:
    """Every file inside a ZIP (its bytes, or its path on disk); nothing is extracted to disk and no
    member is read here. Archiver files, nested ZIPs and members beyond the caps of `limits` come
    back as refusals, the rest as page candidates that read their bytes when registered."""
    try:
        archive = _open_zip(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImageLoadError(f"{zip_name}: not a valid ZIP archive ({exc}).") from exc
    with archive:
        indexed = [(index, info) for index, info in enumerate(archive.infolist()) if not info.is_dir()]
        for _, info in indexed:
            _check_member_name(info.filename, zip_name)
            _check_member_name(_member_name(info), zip_name)
        result: list[InputFile] = []
        accepted_bytes = 0
        for index, info in sorted(indexed, key=lambda item: natural_sort_key(_member_name(item[1]))):
            member = _member_name(info)
            refusal = (_refusal(member) or _nested_zip_refusal(member)
                       or _size_refusal(info, limits, accepted_bytes)
                       or _format_refusal(member, partial(_member_head, archive, info)))
            if refusal is not None:
                result.append(InputFile(name=f"{zip_name}/{member}", refusal=refusal))
                continue
            accepted_bytes += info.file_size
            result.append(InputFile(name=f"{zip_name}/{member}",
                                    member=ZipMember(source, index, limits.member_bytes)))
    return result


def _open_zip(source: bytes | Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)


def _nested_zip_refusal(member: str) -> str | None:
    if member.lower().endswith(".zip"):
        return "refused: a ZIP inside a ZIP is not opened; unpack it and upload its files."
    return None


def _size_refusal(info: zipfile.ZipInfo, limits: ZipLimits, accepted_bytes: int) -> str | None:
    """Why a member would unpack to too much (by its header; reading it enforces the same cap)."""
    size_mb = info.file_size / MIB
    if info.file_size > limits.member_bytes:
        return (f"refused: unpacks to {size_mb:.0f} MB, above the {limits.member_bytes / MIB:.0f} MB limit "
                "for one file in a ZIP (a ZIP bomb, or a scan far too large).")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor_bytes and ratio > limits.ratio:
        return (f"refused: compressed {ratio:.0f} to 1 ({size_mb:.0f} MB from {info.compress_size / MIB:.2f} MB), "
                f"above the {limits.ratio:.0f} to 1 limit; scans barely compress, ZIP bombs do.")
    if accepted_bytes + info.file_size > limits.total_bytes:
        return (f"refused: the ZIP's files would unpack to more than {limits.total_bytes / MIB:.0f} MB in all; "
                "upload the rest in another ZIP.")
    return None


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
