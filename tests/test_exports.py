"""Book deliverables on a real rendered ledger page: PDFs, ZIP, Excel import file, PAGE XML, refusals."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from lxml import etree
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from models import Book, FieldStatus, FieldValue, Page, Record, RecordStatus, User
from ocr.image.loading import InputFile
from samples.generator import PageOptions, render_page
from workbench.book_types import get_book_type
from workbench.books import BookIdentity
from workbench.cli import app
from workbench.context import Workbench
from workbench.db import transaction
from workbench.deliverables.exports.import_layout import import_layout
from workbench.deliverables.exports.naming import UniqueNamer, registration_stem
from workbench.deliverables.exports.package import export_book_pagexml, export_book_xlsx, export_book_zip
from workbench.deliverables.exports.pdf import A4_BYTES, A4_PIXELS, MIN_BYTES, encode_within_budget, size_budget
from workbench.deliverables.exports.records import UnapprovedRecordsError
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.review.record_view import get_record_view
from workbench.review.review import save_record

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "schemas" / "pagecontent-2019-07-15-subset.xsd"
PAGE_NS = "{http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15}"

# The birth template's 70 columns, copied from IMPORT_TEMPLATE.md (independent of the layout file).
BIRTH_TEMPLATE = (
    "STT so quyenSo trangSo ngayDangKy loaiDangKy noiDangKy nguoiKy chucVuNguoiKy nguoiThucHien ghiChu "
    "nksSoDinhDanh nksHoTen nksGioiTinh nksNgaySinh nksNgaySinhBangChu nksNoiSinh nksNoiSinhDVHC nksQueQuan "
    "nksDanToc nksQuocTich nksQuocTichStr nksQuocTichKhac nksQuocTichKhacStr nksLoaiKhaiSinh nksMatTich "
    "nksMatTichNgayGhiChuTuyenBo nksMatTichCanCuTuyenBo nksMatTichNgayGhiChuHuyTuyenBo nksMatTichCanCuHuyTuyenBo "
    "nksHanCheNangLucHanhVi nksHanCheNangLucHanhViNgayGhiChuTuyenBo nksHanCheNangLucHanhViCanCuTuyenBo "
    "nksHanCheNangLucHanhViNgayGhiChuHuyTuyenBo nksHanCheNangLucHanhViNgayCanCuHuyTuyenBo meSoDinhDanhCaNhan "
    "meHoTen meNgaySinh meDanToc meQuocTich meQuocTichStr meQuocTichKhac meQuocTichKhacStr meLoaiCuTru "
    "meNoiCuTru meLoaiGiayToTuyThan meSoGiayToTuyThan chaSoDinhDanhCaNhan chaHoTen chaNgaySinh chaDanToc "
    "chaQuocTich chaQuocTichStr chaQuocTichKhac chaQuocTichKhacStr chaLoaiCuTru chaNoiCuTru chaLoaiGiayToTuyThan "
    "chaSoGiayToTuyThan nycHoTen nycQuanHe nycLoaiGiayToTuyThan nycGiayToKhac nycSoGiayToTuyThan "
    "nycNgayCapGiayToTuyThan nycNoiCapGiayToTuyThan soDangKyNuocNgoai ngayDangKyNuocNgoai cqNuocNgoaiDaDangKy "
    "qgNuocNgoaiDaDangKy"
).split()
# The visible (non-elided) leading columns of the death and marriage lists in IMPORT_TEMPLATE.md.
DEATH_PREFIX = ("STT so quyenSo trangSo ngayDangKy loaiDangKy noiDangKyUBND nguoiKy chucVuNguoiKy nguoiThucHien "
                "ghiChu nktHoTen nktGioiTinh nktNgaySinh nktDanToc nktQuocTich nktQuocTichKhac nktLoaiCuTru "
                "nktNoiCuTru nktLoaiGiayToTuyThan nktGiayToKhac nktSoGiayToTuyThan nktNgayCapGiayToTuyThan "
                "nktNoiCapGiayToTuyThan nktNgayChet nktGioPhutChet nktNoiChet nktNguyenNhanChet").split()
MARRIAGE_PREFIX = ("STT so quyenSo trangSo ngayDangKy loaiDangKy noiDangKy nguoiKy chucVuNguoiKy "
                   "ngayXacLapQuanHeHonNhan nguoiThucHien ghiChu tinhTrangKetHon").split()
SPOUSE_COLUMNS = ("HoTen NgaySinh DanToc QuocTich QuocTichKhac LoaiCuTru NoiCuTru LoaiGiayToTuyThan GiayToKhac "
                  "SoGiayToTuyThan NgayCapGiayToTuyThan NoiCapGiayToTuyThan").split()


@pytest.fixture(scope="module")
def rendered() -> tuple[np.ndarray, dict[str, Any]]:
    """A real synthetic scan: 4 handwritten rows of a birth register, level (the deskewed page)."""
    options = PageOptions(skew_deg=0, border=False, rows=4, width=1600, height=1100, stains=0, jpeg_quality=100)
    return render_page("khai_sinh", 20261128, options, first_registration_no=36, year=2003)


def _map_box(matrix: list[list[float]], box: list[int]) -> list[int]:
    m = np.array(matrix)
    x, y, w, h = box
    corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], float) @ m.T
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    return [round(x0), round(y0), round(x1 - x0), round(y1 - y0)]


def insert_rendered_book(wb: Workbench, unit_id: int, image: np.ndarray, truth: dict[str, Any],
                         volume: int = 2) -> int:
    """Book -> page (a real JPEG in the data dir) -> records/fields whose proposals are the truth values."""
    data_dir = wb.settings.data_dir
    relative = "derived/te/test_page_f0_deskewed.jpg"
    (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(data_dir / relative), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    matrix = truth["flat_to_scan"]
    columns = get_book_type("khai_sinh").columns
    with transaction(wb.sessions) as session:
        book = Book(unit_id=unit_id, book_type="khai_sinh", year_from=2003, volume=volume, declared_count=10)
        session.add(book)
        session.flush()
        page = Page(book_id=book.id, original_name="so_ks_2003_trang1.jpg", sha256="ab" * 32, image_path=relative,
                    deskewed_path=relative, page_index=1, status="done", width=image.shape[1],
                    height=image.shape[0], header_bbox=_map_box(matrix, truth["header_box"]))
        session.add(page)
        session.flush()
        for row in truth["records"]:
            box = _map_box(matrix, row["box"])
            record = Record(book_id=book.id, page_id=page.id, row_index=row["row_index"], bbox=box, confidence=0.8)
            record.fields = [
                FieldValue(key=c.key, position=i, proposed_value=row["fields"][c.key]["value"], confidence=0.8,
                           bbox=_map_box(matrix, [cb[0], row["box"][1], cb[2], row["box"][3]]), engine="test")
                for i, (c, cb) in enumerate(zip(columns, truth["column_boxes"], strict=True))
            ]
            session.add(record)
        return book.id


def _records(sessions: sessionmaker[Session], book_id: int) -> list[Record]:
    with sessions() as session:
        return list(session.scalars(select(Record).where(Record.book_id == book_id).order_by(Record.row_index)))


def _approve_by_review(call: Callable[..., Any], user: User, record_id: int, **values: str) -> None:
    view = call(get_record_view, user, record_id)
    call(save_record, user, record_id, view.version, values, "approve")


def _approve_directly(sessions: sessionmaker[Session], book_id: int, user_id: int | None = None) -> None:
    with transaction(sessions) as session:
        ids = list(session.scalars(select(Record.id).where(Record.book_id == book_id)))
        session.execute(update(FieldValue).where(FieldValue.record_id.in_(ids)).values(status=FieldStatus.CONFIRMED))
        session.execute(update(Record).where(Record.id.in_(ids)).values(
            status=RecordStatus.APPROVED, approved_at=datetime.now(UTC), approved_by_id=user_id))


def _sheet_rows(data: bytes | Path) -> tuple[list[str], list[dict[str, Any]]]:
    workbook = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    sheet = workbook["DL Import"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def test_zip_after_review_holds_one_colour_pdf_per_registration_and_the_import_excel(
    wb: Workbench, units: dict[str, int], users: dict[str, User], call: Callable[..., Any],
    rendered: tuple[np.ndarray, dict[str, Any]], tmp_path: Path,
) -> None:
    image, truth = rendered
    book_id = insert_rendered_book(wb, units["xa_a"], image, truth)
    records = _records(wb.sessions, book_id)
    official = users["official"]
    _approve_by_review(call, official, records[0].id)
    _approve_by_review(call, official, records[1].id, full_name="Tên Đã Sửa")  # an official's correction
    with wb.sessions() as session, pytest.raises(UnapprovedRecordsError) as refused:
        export_book_zip(session, wb.settings.data_dir, book_id, tmp_path / "refused.zip")
    assert "2 unapproved" in str(refused.value) and "--include-unapproved" in str(refused.value)
    assert "chưa được duyệt" in refused.value.message_vi
    assert not (tmp_path / "refused.zip").exists()
    for record in records[2:]:
        _approve_by_review(call, official, record.id)

    with wb.sessions() as session:
        result = export_book_zip(session, wb.settings.data_dir, book_id, tmp_path / "book.zip")
    truth_rows = truth["records"]
    expected_pdfs = [f"KS_XA-TAN-LAP_2003_Q2_P001_S{r['fields']['registration_no']['value']}.pdf"
                     for r in truth_rows]
    with zipfile.ZipFile(tmp_path / "book.zip") as archive:
        assert archive.namelist() == [*expected_pdfs, "KS_XA-TAN-LAP_2003_Q2.xlsx"] == result.files
        header_h = truth["header_box"][3]
        for name, row in zip(expected_pdfs, truth_rows, strict=True):
            data = archive.read(name)
            assert len(data) <= size_budget(row["box"][2], row["box"][3] + header_h) + 3000  # PDF wrapper
            pdf = pdfium.PdfDocument(data)
            assert len(pdf) == 1
            width_pt, height_pt = pdf[0].get_size()
            # The row plus the printed header band above it, at 200 dpi.
            assert width_pt * 200 / 72 == pytest.approx(row["box"][2], abs=30)
            assert height_pt * 200 / 72 == pytest.approx(row["box"][3] + header_h, abs=40)
            bitmap = pdf[0].render(scale=0.5).to_numpy().astype(int)
            spread = np.abs(bitmap[..., 0] - bitmap[..., 2])
            assert spread.mean() > 5  # the paper tint survives: a colour scan, not grey
            pdf.close()
        header, rows = _sheet_rows(archive.read("KS_XA-TAN-LAP_2003_Q2.xlsx"))
    assert header == BIRTH_TEMPLATE
    assert [r["STT"] for r in rows] == [1, 2, 3, 4]
    assert {r["quyenSo"] for r in rows} == {2} and {r["trangSo"] for r in rows} == {1}
    assert {r["loaiDangKy"] for r in rows} == {6}
    assert [r["so"] for r in rows] == [t["fields"]["registration_no"]["value"] for t in truth_rows]
    assert rows[1]["nksHoTen"] == "Tên Đã Sửa"
    assert [rows[i]["nksHoTen"] for i in (0, 2, 3)] == [truth_rows[i]["fields"]["full_name"]["value"]
                                                         for i in (0, 2, 3)]
    sex_codes = {"Nam": 1, "Nữ": 2}
    assert [r["nksGioiTinh"] for r in rows] == [sex_codes[t["fields"]["sex"]["value"]] for t in truth_rows]
    assert [r["nksNgaySinh"] for r in rows] == [t["fields"]["birth_date"]["value"] for t in truth_rows]
    assert [r["meHoTen"] for r in rows] == [t["fields"]["mother_name"]["value"] for t in truth_rows]
    assert {r["noiDangKy"] for r in rows} == {"Xã Tân Lập"}
    assert all(r["nguoiKy"] is None and r["nksSoDinhDanh"] is None for r in rows)  # the ledger holds neither


def test_include_unapproved_marks_records_and_never_exports_unreviewed_ocr(
    wb: Workbench, units: dict[str, int], rendered: tuple[np.ndarray, dict[str, Any]], tmp_path: Path,
) -> None:
    image, truth = rendered
    book_id = insert_rendered_book(wb, units["xa_a"], image, truth)
    with wb.sessions() as session:
        result = export_book_zip(session, wb.settings.data_dir, book_id, tmp_path / "draft.zip",
                                 include_unapproved=True)
    assert result.unapproved == 4
    pdfs = [n for n in result.files if n.endswith(".pdf")]
    assert len(pdfs) == 4 and all(n.endswith("_CHUADUYET.pdf") for n in pdfs)
    with zipfile.ZipFile(tmp_path / "draft.zip") as archive:
        _, rows = _sheet_rows(archive.read(result.files[-1]))
    assert all(r["ghiChu"].startswith("[CHƯA DUYỆT]") for r in rows)
    # Nobody confirmed these fields: the OCR proposals must not reach the import file.
    assert all(r["nksHoTen"] is None and r["so"] is None and r["nksGioiTinh"] is None for r in rows)


def test_every_book_type_gets_its_template_header_and_coded_values(
    wb: Workbench, units: dict[str, int], build_book: Callable[..., int], tmp_path: Path,
) -> None:
    for book_type in ("khai_sinh", "khai_tu", "ket_hon", "nuoi_con_nuoi"):
        book_id = build_book(units["xa_b"], (0.9, 0.8, 0.7), book_type=book_type)
        _approve_directly(wb.sessions, book_id)
        with wb.sessions() as session:
            export_book_xlsx(session, book_id, tmp_path / f"{book_type}.xlsx")
        header, rows = _sheet_rows(tmp_path / f"{book_type}.xlsx")
        assert header == import_layout(book_type).header
        assert len(rows) == 3 and [r["STT"] for r in rows] == [1, 2, 3]
        if book_type == "khai_sinh":
            assert header == BIRTH_TEMPLATE
            assert {r["nksGioiTinh"] for r in rows} == {2}  # conftest's synthetic sex is "Nữ"
        if book_type == "khai_tu":
            assert header[:len(DEATH_PREFIX)] == DEATH_PREFIX
            assert {r["nktGioiTinh"] for r in rows} == {2}
            assert {r["nktNgayChet"] for r in rows} == {"03/04/2001"}
        if book_type == "ket_hon":
            spouses = [f"{who}{c}" for who in ("chong", "vo") for c in SPOUSE_COLUMNS]
            assert header == MARRIAGE_PREFIX + spouses
            assert {r["voHoTen"] for r in rows} == {"Trần Thị Mẫu"}
        if book_type == "nuoi_con_nuoi":
            assert header[:11] == BIRTH_TEMPLATE[:7] + ["nguoiKy", "chucVuNguoiKy", "nguoiThucHien", "ghiChu"]
            assert {r["cnnHoTen"] for r in rows} == {"Trần Thị Mẫu"} and {r["cnnGioiTinh"] for r in rows} == {2}


def test_page_xml_validates_against_the_page_2019_schema(
    wb: Workbench, units: dict[str, int], users: dict[str, User], call: Callable[..., Any],
    rendered: tuple[np.ndarray, dict[str, Any]], tmp_path: Path,
) -> None:
    image, truth = rendered
    book_id = insert_rendered_book(wb, units["xa_a"], image, truth)
    first = _records(wb.sessions, book_id)[0]
    _approve_by_review(call, users["official"], first.id, full_name="Tên Đã Sửa")
    with wb.sessions() as session:
        result = export_book_pagexml(session, wb.settings.data_dir, book_id, tmp_path / "page",
                                     include_unapproved=True)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    assert result.files == ["KS_XA-TAN-LAP_2003_Q2_P001.xml", "KS_XA-TAN-LAP_2003_Q2_P001.jpg"]
    document = etree.parse(str(tmp_path / "page" / result.files[0]))
    schema.assertValid(document)
    page = document.getroot().find(f"{PAGE_NS}Page")
    shipped = cv2.imread(str(tmp_path / "page" / page.get("imageFilename")))  # the image travels with the XML
    assert shipped.shape[:2] == image.shape[:2]
    assert (int(page.get("imageWidth")), int(page.get("imageHeight"))) == (image.shape[1], image.shape[0])
    cells = page.findall(f"{PAGE_NS}TableRegion/{PAGE_NS}TextRegion")
    assert len(cells) == 4 * len(get_book_type("khai_sinh").columns)
    name_cell = page.find(f"{PAGE_NS}TableRegion/{PAGE_NS}TextRegion[@id='r1_c3']")
    equivs = name_cell.findall(f"{PAGE_NS}TextLine/{PAGE_NS}TextEquiv")
    assert [e.findtext(f"{PAGE_NS}Unicode") for e in equivs] == [
        "Tên Đã Sửa", truth["records"][0]["fields"]["full_name"]["value"]]
    assert [float(e.get("conf")) for e in equivs] == [1.0, 0.8]
    unreviewed = page.find(f"{PAGE_NS}TableRegion/{PAGE_NS}TextRegion[@id='r2_c3']/{PAGE_NS}TextLine")
    assert unreviewed.find(f"{PAGE_NS}TextEquiv").get("comments") == "machine proposal"
    # The schema is not vacuous: a misplaced element fails.
    etree.SubElement(page, f"{PAGE_NS}TextLine", id="stray")
    assert not schema.validate(document)


def test_file_names_are_deterministic_and_collisions_get_a_counter() -> None:
    namer = UniqueNamer()
    stem = registration_stem("KS_XA-TAN-LAP_2003_Q2", 4, "12/2003", 1)
    assert stem == "KS_XA-TAN-LAP_2003_Q2_P004_S12-2003"
    assert namer.name(stem, ".pdf") == "KS_XA-TAN-LAP_2003_Q2_P004_S12-2003.pdf"
    assert namer.name(stem, ".pdf") == "KS_XA-TAN-LAP_2003_Q2_P004_S12-2003_2.pdf"
    assert registration_stem("KT_X_1990_Q1", 1, "", 3, approved=False) == "KT_X_1990_Q1_P001_SR3_CHUADUYET"


def test_jpeg_budget_is_met_by_lowering_quality_then_size() -> None:
    rng = np.random.default_rng(1)
    noisy = rng.integers(0, 255, (1100, 1700, 3), dtype=np.uint8)  # worst case for JPEG
    data, quality, scale = encode_within_budget(noisy)
    assert len(data) <= size_budget(1700, 1100) or (quality == 40 and scale < 1)
    smooth = np.full((400, 1600, 3), 235, np.uint8)
    data, quality, scale = encode_within_budget(smooth)
    assert quality == 90 and scale == 1.0 and len(data) <= MIN_BYTES
    assert size_budget(1654, 2338) == pytest.approx(A4_BYTES, rel=0.01) and A4_PIXELS > 3_800_000


def test_cli_export_refuses_unapproved_then_writes_the_zip(
    wb: Workbench, units: dict[str, int], rendered: tuple[np.ndarray, dict[str, Any]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image, truth = rendered
    book_id = insert_rendered_book(wb, units["xa_a"], image, truth)
    monkeypatch.setenv("WORKBENCH_DB", wb.settings.db_url)
    monkeypatch.setenv("WORKBENCH_DATA", str(wb.settings.data_dir))
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["export", str(book_id), *args])

    refused = run("--format", "zip", "--out", str(tmp_path / "b.zip"))
    assert refused.exit_code == 2 and "unapproved" in refused.output and not (tmp_path / "b.zip").exists()
    _approve_directly(wb.sessions, book_id)
    done = run("--format", "zip", "--out", str(tmp_path / "b.zip"))
    assert done.exit_code == 0, done.output
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        assert sum(n.endswith(".pdf") for n in archive.namelist()) == 4
    assert run("--format", "docx").exit_code == 2


def test_sample_page_through_the_real_pipeline_then_review_then_zip(
    wb: Workbench, users: dict[str, User], call: Callable[..., Any], rendered: tuple[np.ndarray, dict[str, Any]],
    tmp_path: Path,
) -> None:
    """The 'done when' path: ingest (no OCR: officials key every field) -> approve via the review service -> ZIP."""
    image, truth = rendered
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    report = ingest_files(wb.sessions, wb.settings.data_dir, [InputFile("so_ks_2003_p1.jpg", data=jpeg.tobytes())],
                          identity=BookIdentity("Xã Tân Lập", "khai_sinh", 2003, 3),
                          options=IngestOptions(run_ocr=False))
    assert report.pages_done == 1 and report.records_created >= 1
    with wb.sessions() as session:
        page = session.scalars(select(Page).where(Page.book_id == report.book_id)).one()
        assert page.header_bbox is not None  # the pipeline's header box reaches the PDFs
    records = _records(wb.sessions, report.book_id)
    for record, row in zip(records, truth["records"], strict=False):
        typed = {key: field["value"] for key, field in row["fields"].items()}
        _approve_by_review(call, users["official"], record.id, **typed)
    with wb.sessions() as session:
        result = export_book_zip(session, wb.settings.data_dir, report.book_id, tmp_path / "ks.zip")
    numbers = [row["fields"]["registration_no"]["value"] for row in truth["records"][:len(records)]]
    assert result.files == [f"KS_XA-TAN-LAP_2003_Q3_P001_S{n}.pdf" for n in numbers] + ["KS_XA-TAN-LAP_2003_Q3.xlsx"]
    with zipfile.ZipFile(tmp_path / "ks.zip") as archive:
        for name in result.files[:-1]:
            assert len(pdfium.PdfDocument(archive.read(name))) == 1
        header, rows = _sheet_rows(archive.read(result.files[-1]))
    assert header == BIRTH_TEMPLATE
    assert [r["so"] for r in rows] == numbers
