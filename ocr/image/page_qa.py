"""Page quality checks: blank pages, duplicates (perceptual hash), pages scanned turned,
writing outside the detected table.

Warning codes (stable, stored with the page): ``blank``, ``rotated_90``, ``rotated_270``,
``upside_down``, ``duplicate_of:<name>``, ``ink_left_of_table``, ``ink_right_of_table``; a
rotation the pipeline corrected itself is recorded as ``auto_rotated:<degrees>`` next to the
code, so the contractor sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr.image.imaging import ink_gray, ink_mask, resize_to_width, small_ink_gray
from ocr.types import Box

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


def column_warnings(guessed: int, worst_ratio: float, unmatched_rulings: int = 0) -> list[str]:
    """Page warnings when the columns found disagree with the template: say so, never guess silently.

    ``unmatched_rulings``: vertical rulings inside the table that no template edge took (a column
    the template lacks, or the frame put on a wrong line so that the columns shifted)."""
    codes = []
    if guessed:
        codes.append("columns_guessed")
    if worst_ratio > COLUMN_RATIO_WARNING or unmatched_rulings:
        codes.append("columns_differ_from_template")
    return codes


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
    return _text_mask_of_gray(small_ink_gray(image, analysis_width))


def _text_mask_of_gray(small: np.ndarray) -> np.ndarray:
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


def _ascenders_below(mask: np.ndarray) -> tuple[bool, float]:
    """Whether horizontal text in the mask is upside down, with a 0..1 margin.

    Latin and Vietnamese letters put far more ink above the x-height band (ascenders, accents,
    capitals) than below it (a few descenders): in each text line compare the ink above and
    below the band of densest rows. A weak vote on its own (handwriting fonts loop below).
    """
    profile = (mask > 0).sum(axis=1).astype(np.float64)
    above = below = 0.0
    threshold = 0.02 * mask.shape[1] * 0.1
    rows = np.flatnonzero(profile > threshold)
    if len(rows) == 0:
        return False, 0.0
    # Split into text lines on empty rows.
    breaks = np.flatnonzero(np.diff(rows) > 1)
    for segment in np.split(rows, breaks + 1):
        a, b = int(segment[0]), int(segment[-1]) + 1
        if b - a < 6:
            continue
        line = profile[a:b]
        core = np.flatnonzero(line >= 0.5 * line.max())
        above += float(line[: core[0]].sum())
        below += float(line[core[-1] + 1 :].sum())
    total = above + below
    if total <= 0:
        return False, 0.0
    return below > above, abs(above - below) / total


def rotation_transform(degrees: int, width: int, height: int) -> np.ndarray:
    """2x3 affine of turning a width x height image upright from a clockwise turn of ``degrees``."""
    if degrees == 90:  # rotate counter-clockwise: (x, y) -> (y, w - 1 - x)
        return np.array([[0, 1, 0], [-1, 0, width - 1]], np.float64)
    if degrees == 180:
        return np.array([[-1, 0, width - 1], [0, -1, height - 1]], np.float64)
    if degrees == 270:  # rotate clockwise: (x, y) -> (h - 1 - y, x)
        return np.array([[0, -1, height - 1], [1, 0, 0]], np.float64)
    return np.array([[1, 0, 0], [0, 1, 0]], np.float64)


def _title_band_side(mask: np.ndarray) -> int:
    """+1 when the printed title line is the first text band, -1 when it is the last (the page
    is upside down), 0 when neither or both."""
    height, width = mask.shape
    profile = (mask > 0).sum(axis=1)
    rows = np.flatnonzero(profile > 0.002 * width)
    if len(rows) == 0:
        return 0
    segments = np.split(rows, np.flatnonzero(np.diff(rows) > max(2, height // 150)) + 1)
    gap = max(6, width // 100)

    def looks_like_title(segment: np.ndarray) -> bool:
        # The title line: a long centred chunk (the book's name) flanked by at most a few
        # short ones (unit, year); a handwritten row breaks into many chunks across the columns.
        occupied = np.flatnonzero((mask[segment[0] : segment[-1] + 1] > 0).any(axis=0))
        if len(occupied) == 0:
            return False
        pieces = np.split(occupied, np.flatnonzero(np.diff(occupied) > gap) + 1)
        longest = max(pieces, key=lambda p: p[-1] - p[0])
        centred = abs((longest[0] + longest[-1]) / 2 - width / 2) < 0.08 * width
        return len(pieces) <= 5 and longest[-1] - longest[0] > 0.15 * width and centred

    first, last = looks_like_title(segments[0]), looks_like_title(segments[-1])
    return int(first) - int(last)


def ledger_upside_down(page: np.ndarray, analysis_width: int = 800) -> tuple[bool, float]:
    """Whether a levelled ledger page is upside down, with a 0..1 confidence.

    Three votes: the table frame sits lower on the page than the title margin above it (the
    title takes the top margin), the title is the first text band, and text has more ink above
    its x-height band than below.
    """
    from ocr.layout.grid import find_rulings, frame_lines  # local import: keeps page_qa light to import
    from ocr.settings import GridSettings

    small = small_ink_gray(page, analysis_width)
    height = small.shape[0]
    votes: list[float] = []
    h_peaks, v_peaks = find_rulings(small, GridSettings())
    if len(h_peaks) >= 3 and len(v_peaks) >= 2:  # a real printed table, not text mimicking lines
        top, bottom = frame_lines(h_peaks)
        top_margin, bottom_margin = top / height, 1 - bottom / height
        if abs(top_margin - bottom_margin) > 0.02:
            votes.append(1.0 if bottom_margin > top_margin else -1.0)
    mask = _text_mask_of_gray(small)
    side = _title_band_side(mask)
    if side:
        votes.append(-float(side))
    flipped, margin = _ascenders_below(mask)
    votes.append((1.0 if flipped else -1.0) * min(1.0, margin) * 0.8)
    score = sum(votes) / len(votes)
    return score > 0, min(1.0, abs(score))


# Share of the table's writing that, found beside it, is worth a warning: one column holds
# roughly 5-10% of a page's writing; the synthetic benchmark pages have none beside the table.
INK_BESIDE_TABLE_MIN_SHARE = 0.04


@dataclass(frozen=True)
class InkBesideTable:
    """Writing found beside the detected table, level with it, as a share of the ink inside."""

    left: float
    right: float

    def warnings(self, min_share: float = INK_BESIDE_TABLE_MIN_SHARE) -> list[str]:
        """Codes for the sides holding substantial writing (a column's worth is ~5-10%)."""
        sides = (("ink_left_of_table", self.left), ("ink_right_of_table", self.right))
        return [code for code, share in sides if share >= min_share]


def ink_beside_table(text: np.ndarray, table: Box) -> InkBesideTable:
    """How much writing lies left and right of the table, between its top and bottom.

    A ledger's entries all stand inside its frame; writing beside it means the frame was found
    too narrow (faint outer rulings) and whole columns are missing, or the margin holds notes.
    ``text`` is the page's ink without rulings (0/255); the paper edge and its shadow in the
    outermost 2% and the frame ruling's own width do not count.
    """
    from ocr.layout.grid import writing_pixels  # local import: keeps page_qa light to import

    width = text.shape[1]
    edge = max(4, round(0.02 * width))
    gap = max(6, round(width / 225))  # the frame ruling's own width
    level = text[max(0, table.y) : table.y + table.h]
    # All ink inside (rulings are already out of the mask) is within a few % of its writing
    # and a hundred times cheaper to count than the shapes.
    inside = int(np.count_nonzero(level[:, max(0, table.x) : table.x + table.w]))
    if inside == 0:
        return InkBesideTable(0.0, 0.0)
    left = writing_pixels(level[:, edge : max(edge, table.x - gap)])
    right = writing_pixels(level[:, min(width - edge, table.x + table.w + gap) : width - edge])
    return InkBesideTable(left / inside, right / inside)
