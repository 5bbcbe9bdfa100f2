"""PAGE XML (2019-07-15) per page, for HTR tools such as Transkribus and eScriptorium.

Each page becomes one TableRegion (the ledger's data rows) holding one TextRegion per cell,
placed by a TableCellRole (row = record order on the page, column = template column). Each cell
has one TextLine whose TextEquiv index 0 is the officials' value (conf 1, comments "verified")
when reviewed, else the machine proposal with its confidence; a reviewed cell keeps the machine
proposal as TextEquiv index 1. Coordinates are on the deskewed page image.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePosixPath

from lxml import etree

from ocr.types import ColumnSpec
from workbench.deliverables.exports.records import ExportBook, ExportField, ExportPage, ExportRecord

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
CREATOR = "civil-registry workbench"
Box = tuple[int, int, int, int]


def _el(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{PAGE_NS}}}{tag}", {k: v for k, v in attributes.items() if v is not None})


def _clamp(box: Box, width: int, height: int) -> Box:
    x0, y0 = min(max(box[0], 0), width - 1), min(max(box[1], 0), height - 1)
    x1, y1 = min(max(box[0] + box[2], x0 + 1), width), min(max(box[1] + box[3], y0 + 1), height)
    return x0, y0, x1 - x0, y1 - y0


def points(box: Box) -> str:
    x, y, w, h = box
    return f"{x},{y} {x + w},{y} {x + w},{y + h} {x},{y + h}"


def split_by_columns(record_box: Box, columns: tuple[ColumnSpec, ...]) -> dict[str, Box]:
    """Cell boxes from the template's width hints, for cells the pipeline stored no box for."""
    x, y, w, h = record_box
    total = sum(c.width for c in columns) or 1.0
    boxes, left = {}, float(x)
    for column in columns:
        right = left + w * column.width / total
        boxes[column.key] = (round(left), y, max(1, round(right) - round(left)), h)
        left = right
    return boxes


def _text_equiv(parent: etree._Element, text: str, conf: float, index: int, comment: str) -> None:
    equiv = _el(parent, "TextEquiv", index=str(index), conf=f"{min(max(conf, 0.0), 1.0):.4f}", comments=comment)
    _el(equiv, "Unicode").text = text


def _cell(table: etree._Element, cell_id: str, key: str, box: Box, row: int, column: int,
          field: ExportField | None) -> None:
    region = _el(table, "TextRegion", id=cell_id, custom=f"field {{key:{key};}}")
    _el(region, "Coords", points=points(box))
    roles = _el(region, "Roles")
    _el(roles, "TableCellRole", rowIndex=str(row), columnIndex=str(column))
    line = _el(region, "TextLine", id=f"{cell_id}_l1")
    _el(line, "Coords", points=points(box))
    if field is None:
        _text_equiv(line, "", 0.0, 0, "no value")
    elif field.reviewed:
        _text_equiv(line, field.official, 1.0, 0, "verified")
        _text_equiv(line, field.proposed, field.confidence, 1, "machine proposal")
    else:
        _text_equiv(line, field.proposed, field.confidence, 0, "machine proposal")


def _union(boxes: list[Box]) -> Box:
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def page_xml(book: ExportBook, page: ExportPage, columns: tuple[ColumnSpec, ...],
             created: datetime | None = None, image_filename: str | None = None) -> bytes:
    """One PAGE XML document; the page must have been processed (deskewed size known).

    image_filename: the deskewed image's name as shipped next to the XML (default: its stored name).
    """
    if not page.width or not page.height or not page.deskewed_path:
        raise ValueError(f"page {page.page_index} has not been processed; no PAGE XML for it")
    width, height = page.width, page.height
    stamp = (created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0).isoformat()
    root = etree.Element(f"{{{PAGE_NS}}}PcGts", nsmap={None: PAGE_NS},
                         pcGtsId=f"book{book.book_id}_page{page.page_index}")
    metadata = _el(root, "Metadata")
    _el(metadata, "Creator").text = CREATOR
    _el(metadata, "Created").text = stamp
    _el(metadata, "LastChange").text = stamp
    _el(metadata, "Comments").text = (
        f"book {book.book_id} ({book.book_type}, {book.unit_name}, {book.year}, quyển {book.volume}); "
        f"page {page.page_index}; original file {page.original_name}"
    )
    page_el = _el(root, "Page", imageFilename=image_filename or PurePosixPath(page.deskewed_path).name,
                  imageWidth=str(width), imageHeight=str(height))
    records = [r for r in page.records if r.bbox[2] > 0 and r.bbox[3] > 0]
    if records:
        _table(page_el, records, columns, width, height)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _table(page_el: etree._Element, records: list[ExportRecord], columns: tuple[ColumnSpec, ...],
           width: int, height: int) -> None:
    row_boxes = [_clamp(r.bbox, width, height) for r in records]
    table = _el(page_el, "TableRegion", id="table", rows=str(len(records)), columns=str(len(columns)),
                lineSeparators="true")
    _el(table, "Coords", points=points(_clamp(_union(row_boxes), width, height)))
    for row, (record, row_box) in enumerate(zip(records, row_boxes, strict=True)):
        fallback = split_by_columns(row_box, columns)
        for column_index, column in enumerate(columns):
            field = record.fields.get(column.key)
            box = field.bbox if field is not None and field.bbox else fallback[column.key]
            _cell(table, f"r{record.row_index}_c{column_index + 1}", column.key, _clamp(box, width, height),
                  row, column_index, field)
