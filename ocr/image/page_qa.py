"""Page quality checks on the image alone: blank pages, duplicates (perceptual hash), pages scanned
turned 90/270. The checks that need the table's rulings (upside-down ledger, writing outside the
detected table) are in ocr.layout.table_qa.

Warning codes (stable, stored with the page): ``blank``, ``rotated_90``, ``rotated_270``,
``upside_down``, ``duplicate_of:<name>``, ``ink_left_of_table``, ``ink_right_of_table``; a
rotation the pipeline corrected itself is recorded as ``auto_rotated:<degrees>`` next to the
code, so the contractor sees it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr.image.imaging import ink_gray, ink_mask, resize_to_width, small_ink_gray
from ocr.page_warnings import PageWarning

BLANK = PageWarning("blank")
ROTATED_90 = PageWarning("rotated_90")
ROTATED_270 = PageWarning("rotated_270")
UPSIDE_DOWN = PageWarning("upside_down")
NO_GRID = PageWarning("no_grid")
COLUMNS_GUESSED = PageWarning("columns_guessed")
COLUMNS_DIFFER = PageWarning("columns_differ_from_template")


def duplicate_warning(name: str) -> PageWarning:
    """The page is a scan of the earlier page ``name`` (a file name, as the contractor knows it)."""
    return PageWarning("duplicate_of", (name,))


def auto_rotated(degrees: int) -> PageWarning:
    """A turn the pipeline made itself (90, 180 or 270 degrees), shown to the contractor."""
    return PageWarning("auto_rotated", (str(degrees),))

# What officials read for the codes added here (the UI's label table shows these texts).
WARNINGS_VI: dict[str, str] = {
    "ink_left_of_table": "có chữ viết bên trái khung bảng: có thể nhận thiếu cột, các trường có thể bị lệch cột",
    "ink_right_of_table": "có chữ viết bên phải khung bảng: có thể nhận thiếu cột, các trường có thể bị lệch cột",
    "columns_guessed": "không thấy đủ đường kẻ cột: một số cột được ước theo mẫu sổ, cần kiểm tra "
                       "các trường có bị lệch cột",
    "columns_differ_from_template": "các cột khác nhiều so với mẫu sổ (tỉ lệ cột, hoặc có đường kẻ dọc không có trong "
                                    "mẫu): cần kiểm tra các trường có bị lệch cột",
    # added by recognition (ocr.recognition.depth_checked), not by page analysis
    "reading_out_of_depth": "trang khó đọc hơn mọi trang máy đã được kiểm định: không trường nào được đánh dấu "
                            "chắc chắn, cần xem lại từng trường",
}

# A found column this many times wider or narrower than its hint is not a print-run difference
# (those stay within about +-35%, a factor of 2 between two columns at worst).
COLUMN_RATIO_WARNING = 2.2


def column_warnings(guessed: int, worst_ratio: float, unmatched_rulings: int = 0) -> list[PageWarning]:
    """Page warnings when the columns found disagree with the template: say so, never guess silently.

    ``unmatched_rulings``: vertical rulings inside the table that no template edge took (a column
    the template lacks, or the frame put on a wrong line so that the columns shifted)."""
    warnings = []
    if guessed:
        warnings.append(COLUMNS_GUESSED)
    if worst_ratio > COLUMN_RATIO_WARNING or unmatched_rulings:
        warnings.append(COLUMNS_DIFFER)
    return warnings


def ink_fraction(image: np.ndarray, analysis_width: int = 800) -> float:
    """Share of the paper's pixels that are ink (darker than their surroundings), downscaled.

    Only the paper counts: a dark scanner bed, the paper edge and its shadow are not content.
    """
    from ocr.image.deskew import find_page_region  # local import: deskew is heavier than QA needs

    small_colour, _ = resize_to_width(image, analysis_width)
    small = ink_gray(small_colour)
    mask = ink_mask(small, 25, 25)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # drop sensor noise
    h, w = mask.shape
    paper = find_page_region(small_colour, analysis_width).mask
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_NEAREST)
    my, mx = max(1, h * 3 // 100), max(1, w * 3 // 100)
    paper = cv2.erode(paper, np.ones((2 * my + 1, 2 * mx + 1), np.uint8))  # away from the edge shadow
    area = int(np.count_nonzero(paper))
    if area == 0:
        return 0.0
    mask = cv2.bitwise_and(mask, paper)
    # Long thin shapes are paper edges, their shadows, folds or rulings, not writing; join their
    # dashes first, then drop every joined shape that is long and only a few px thick.
    joined = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    # Mean thickness of a stroke along the box (an L-shaped corner counts both arms).
    thickness = stats[:, cv2.CC_STAT_AREA] / np.maximum(widths + heights, 1)
    line_like = (np.maximum(widths, heights) > 0.05 * min(h, w)) & (thickness < 8)
    line_like[0] = True  # background
    return float(np.count_nonzero(mask[~line_like[labels]])) / area


def is_blank(image: np.ndarray, max_ink_fraction: float = 0.003, analysis_width: int = 800) -> bool:
    """True when the page carries (almost) no ink: paper texture, stains and noise only."""
    return ink_fraction(image, analysis_width) < max_ink_fraction


def dhash(image: np.ndarray, size: int = 8) -> int:
    """Difference hash: 64 bits comparing horizontally adjacent cells of a tiny grey image."""
    tiny = cv2.resize(small_ink_gray(image, 256), (size + 1, size), interpolation=cv2.INTER_AREA)
    bits = (tiny[:, 1:] > tiny[:, :-1]).ravel()
    return int("".join("1" if b else "0" for b in bits), 2)


def phash(image: np.ndarray, size: int = 8) -> int:
    """DCT perceptual hash: 64 bits of the lowest frequencies against their median."""
    tiny = cv2.resize(small_ink_gray(image, 256), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(tiny)[:size, :size].ravel()
    bits = low[1:] > np.median(low[1:])  # the DC term only says how bright the page is
    return int("".join("1" if b else "0" for b in np.append(bits, False)), 2)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def duplicate_of(page_hash: int, seen: dict[str, int], max_distance: int = 6) -> str | None:
    """Name of an earlier page whose hash is within max_distance bits, if any."""
    best = min(seen.items(), key=lambda item: hamming(page_hash, item[1]), default=None)
    if best is not None and hamming(page_hash, best[1]) <= max_distance:
        return best[0]
    return None


def _text_mask(image: np.ndarray, analysis_width: int) -> np.ndarray:
    return text_mask_of_gray(small_ink_gray(image, analysis_width))


def text_mask_of_gray(small: np.ndarray) -> np.ndarray:
    mask = ink_mask(small, 25, 15)
    h, w = mask.shape
    my, mx = max(1, h * 3 // 100), max(1, w * 3 // 100)
    mask[:my], mask[-my:], mask[:, :mx], mask[:, -mx:] = 0, 0, 0, 0
    # Long rulings run both ways on a ledger: only the writing tells the reading direction.
    long_h = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, max(15, w // 25)), np.uint8))
    long_v = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((max(15, h // 25), 1), np.uint8))
    return cv2.subtract(mask, cv2.bitwise_or(long_h, long_v))


def text_is_vertical(image: np.ndarray, analysis_width: int = 800) -> tuple[bool, float]:
    """Whether text lines run top-to-bottom (page turned 90/270), with a 0..1 margin.

    Smearing letters along the writing direction fuses them into words and lines, so closing
    along the true direction leaves far fewer blobs than closing across it.
    """
    mask = _text_mask(image, analysis_width)
    reach = max(5, mask.shape[1] // 80)
    along_x = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((1, reach), np.uint8))
    along_y = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((reach, 1), np.uint8))
    blobs_x = cv2.connectedComponents(along_x)[0]
    blobs_y = cv2.connectedComponents(along_y)[0]
    if max(blobs_x, blobs_y) < 20:
        return False, 0.0  # too little text to tell
    margin = abs(blobs_y - blobs_x) / max(blobs_x, blobs_y)
    return blobs_y < blobs_x, margin


def rotation_transform(degrees: int, width: int, height: int) -> np.ndarray:
    """2x3 affine of turning a width x height image upright from a clockwise turn of ``degrees``."""
    if degrees == 90:  # rotate counter-clockwise: (x, y) -> (y, w - 1 - x)
        return np.array([[0, 1, 0], [-1, 0, width - 1]], np.float64)
    if degrees == 180:
        return np.array([[-1, 0, width - 1], [0, -1, height - 1]], np.float64)
    if degrees == 270:  # rotate clockwise: (x, y) -> (h - 1 - y, x)
        return np.array([[0, -1, height - 1], [1, 0, 0]], np.float64)
    return np.array([[1, 0, 0], [0, 1, 0]], np.float64)
