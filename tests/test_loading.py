"""Loading page files: formats, EXIF orientation, multi-page files, and every way a file can be bad."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import cv2
import img2pdf
import numpy as np
import pytest
from PIL import Image

from ocr.image.loading import ImageLoadError, iter_input_files, load_images, natural_sort_key


def _page(width: int = 600, height: int = 400) -> np.ndarray:
    """A small BGR page with an asymmetric mark, so orientation mistakes are visible."""
    page = np.full((height, width, 3), 235, np.uint8)
    cv2.rectangle(page, (20, 20), (200, 80), (30, 30, 30), -1)  # dark block at the top left
    cv2.line(page, (0, height - 30), (width, height - 30), (90, 60, 40), 3)
    return page


def _encode(image: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, followed by almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(
        b"IEND", b""
    )


def test_jpeg_and_png_load_as_bgr_uint8():
    page = _page()
    for ext in (".jpg", ".png"):
        [loaded] = load_images(_encode(page, ext), f"page{ext}")
        assert loaded.image.dtype == np.uint8 and loaded.image.shape == page.shape
        assert loaded.source_name == f"page{ext}" and loaded.frame_index == 0
        # Colour order survives: the ruling is brownish (blue channel highest) in BGR.
        b, g, r = loaded.image[page.shape[0] - 30, 300]
        assert b > r


def test_load_from_path(tmp_path: Path):
    path = tmp_path / "scan.png"
    path.write_bytes(_encode(_page(), ".png"))
    [loaded] = load_images(path)
    assert loaded.source_name == "scan.png"
    assert loaded.image.shape == (400, 600, 3)


def test_multipage_tiff_gives_every_page():
    frames = [Image.fromarray(_page()[:, :, ::-1]), Image.fromarray(np.full((300, 500, 3), 200, np.uint8)),
              Image.fromarray(np.full((350, 450), 128, np.uint8))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_lzw")
    pages = load_images(buffer.getvalue(), "book.tiff")
    assert [p.frame_index for p in pages] == [0, 1, 2]
    assert [p.image.shape for p in pages] == [(400, 600, 3), (300, 500, 3), (350, 450, 3)]


def test_pdf_pages_are_rendered_at_the_requested_dpi():
    pngs = [_encode(_page(), ".png"), _encode(_page(800, 500), ".png")]
    # img2pdf embeds each image at 100 dpi here: 600 px wide = 6 in = 1200 px at 200 dpi.
    pdf = img2pdf.convert(pngs, layout_fun=img2pdf.get_fixed_dpi_layout_fun((100, 100)))
    pages = load_images(pdf, "record.pdf", pdf_dpi=200)
    assert len(pages) == 2
    assert abs(pages[0].image.shape[1] - 1200) <= 2 and abs(pages[0].image.shape[0] - 800) <= 2
    assert abs(pages[1].image.shape[1] - 1600) <= 2
    # The dark block is still at the top left after rendering.
    assert pages[0].image[100, 200].mean() < 80 and pages[0].image[700, 1100].mean() > 150


def _pdf_without_pages() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 3\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


def test_pdf_without_pages_is_refused():
    with pytest.raises(ImageLoadError, match="no pages"):
        load_images(_pdf_without_pages(), "empty.pdf")


def test_exif_orientation_is_applied():
    page = _page()
    # Store the page turned clockwise with EXIF orientation 6 ("rotate 90 CW to view"):
    # a phone held sideways does exactly this.
    stored = Image.fromarray(cv2.rotate(page, cv2.ROTATE_90_COUNTERCLOCKWISE)[:, :, ::-1])
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", exif=exif.tobytes(), quality=95)
    [loaded] = load_images(buffer.getvalue(), "phone.jpg")
    assert loaded.image.shape == page.shape
    assert loaded.image[50, 100].mean() < 80  # the dark block is back at the top left


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"Ho va ten, ngay sinh\n" * 20, "not an image"),
        (b"%PDF-1.4\n garbage that is not a PDF", "PDF cannot be opened; it is damaged"),
    ],
)
def test_bad_files_raise_one_clear_error(data: bytes, message: str):
    with pytest.raises(ImageLoadError, match=message):
        load_images(data, "upload.bin")


def test_truncated_and_corrupt_images_raise_image_load_error():
    jpeg = _encode(_page(), ".jpg")
    with pytest.raises(ImageLoadError, match="truncated|damaged"):
        load_images(jpeg[: len(jpeg) // 3], "cut.jpg")
    png = _encode(_page(), ".png")
    corrupt = png[:60] + bytes(b ^ 0x5A for b in png[60:200]) + png[200:]
    with pytest.raises(ImageLoadError):
        load_images(corrupt, "corrupt.png")


def test_decompression_bombs_are_refused_before_decoding():
    # Above our limit but below Pillow's own error threshold: our header check catches it.
    with pytest.raises(ImageLoadError, match="megapixels"):
        load_images(_png_header_only(12_000, 12_000), "bomb.png")
    # Far above: Pillow refuses on open; still one ImageLoadError.
    with pytest.raises(ImageLoadError, match="absurdly large"):
        load_images(_png_header_only(30_000, 30_000), "bomb2.png")
    # And a custom limit applies to ordinary images too.
    with pytest.raises(ImageLoadError, match="megapixels"):
        load_images(_encode(_page(), ".png"), "small.png", max_pixels=100_000)


def test_natural_sort_key_orders_page_numbers():
    names = ["page_10.jpg", "page_2.jpg", "Page_1.jpg", "page_11.jpg"]
    assert sorted(names, key=natural_sort_key) == ["Page_1.jpg", "page_2.jpg", "page_10.jpg", "page_11.jpg"]


def test_folders_and_zips_expand_in_natural_order(tmp_path: Path):
    png = _encode(_page(), ".png")
    folder = tmp_path / "scans"
    folder.mkdir()
    for name in ("page_10.png", "page_2.png", "notes.txt", ".hidden.png"):
        (folder / name).write_bytes(png)
    archive = tmp_path / "book.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("so/page_10.jpg", _encode(_page(), ".jpg"))
        zf.writestr("so/page_2.jpg", _encode(_page(), ".jpg"))
        zf.writestr("__MACOSX/so/._page_2.jpg", b"resource fork")
        zf.writestr("readme.txt", b"not a page")
    files = iter_input_files([folder, archive])
    pages = [f for f in files if f.refusal is None]
    assert [f.name for f in pages] == [
        "scans/notes.txt",  # PNG bytes: the content, not the name, makes it a page candidate
        "scans/page_2.png",
        "scans/page_10.png",
        "book.zip/so/page_2.jpg",
        "book.zip/so/page_10.jpg",
    ]
    # Nothing vanishes: what is not a page is listed with the reason (issue #17 item 4).
    assert {f.name: f.refusal.split(":")[0] for f in files if f.refusal} == {
        "scans/.hidden.png": "refused", "book.zip/__MACOSX/so/._page_2.jpg": "refused",
        "book.zip/readme.txt": "refused",
    }
    # ZIP members are read in memory and load like any file.
    [loaded] = load_images(pages[3].read_bytes(), pages[3].name)
    assert loaded.image.shape == (400, 600, 3)


@pytest.mark.parametrize("bad_name", ["../evil.jpg", "so/../../evil.jpg", "/etc/evil.jpg", "C:/evil.jpg"])
def test_zip_with_unsafe_member_names_is_refused(tmp_path: Path, bad_name: str):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("page_1.jpg", _encode(_page(), ".jpg"))
        zf.writestr(bad_name, _encode(_page(), ".jpg"))
    with pytest.raises(ImageLoadError, match="refused"):
        iter_input_files([archive])


def test_missing_path_and_broken_zip(tmp_path: Path):
    with pytest.raises(ImageLoadError, match="no such file"):
        iter_input_files([tmp_path / "nowhere.jpg"])
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ImageLoadError, match="not a valid ZIP"):
        iter_input_files([broken])
