"""Vietnamese tables of the "Mô hình nhận dạng" page, built from what workbench.training.model_admin returns."""

from __future__ import annotations

from typing import Any

from workbench.training.model_admin import ComparisonResult


def comparison_table(result: ComparisonResult) -> list[dict[str, Any]]:
    """Rows for the side-by-side table, Vietnamese labels, values as shown to officials."""
    assert result.comparison is not None
    labels = {
        "fields": "Số trường đem so",
        "cer": "Tỉ lệ lỗi ký tự (càng thấp càng tốt)",
        "field_accuracy": "Trường đọc đúng hoàn toàn",
        "high_confidence_share": "Trường có độ tin cậy cao",
        "high_confidence_precision": "Trong số đó, đọc đúng",
    }

    def shown(metric: str, value: object) -> str:
        if value is None:
            return "—"
        if metric == "fields":
            return str(value)
        return f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]

    rows = []
    for row in result.comparison.rows():
        metric = str(row["metric"])
        rows.append({"Chỉ số": labels[metric], f"Mô hình mới ({result.candidate})": shown(metric, row["candidate"]),
                     f"Đang dùng ({result.active})": shown(metric, row["active"])})
    return rows
