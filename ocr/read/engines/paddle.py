"""PaddleOCR 3.x adapter that loads detection/recognition models from local folders only.

Optional (``requirements-paddle.txt``). ``PaddleOCR(lang="vi")`` tries to download models and
fails offline, so models must be folders you provide, each holding the Paddle inference files
plus an ``inference.yml`` (PaddleX format: ``Global.model_name``, ``PreProcess``,
``PostProcess``; the recognizer's carries ``PostProcess.character_dict`` and
``name: CTCLabelDecode``). ``write_inference_yml`` writes those for PP-OCRv4-style folders.
oneDNN is turned off: with it Paddle 3.3 fails with ``ConvertPirAttribute2RuntimeAttribute``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ocr.read.engines.base import to_rgb
from ocr.types import CharConfidence, LineReading

DET_PREPROCESS: list[dict[str, Any]] = [
    {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
    {"DetLabelEncode": None},
    {"DetResizeForTest": {"resize_long": 960}},
    {"NormalizeImage": {"mean": [0.485, 0.456, 0.406], "order": "hwc", "scale": "1./255.",
                        "std": [0.229, 0.224, 0.225]}},
    {"ToCHWImage": None},
    {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}},
]
DET_POSTPROCESS = {"name": "DBPostProcess", "thresh": 0.3, "box_thresh": 0.6, "max_candidates": 1000,
                   "unclip_ratio": 1.5}
REC_PREPROCESS: list[dict[str, Any]] = [
    {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
    {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}},
    {"RecResizeImg": {"image_shape": [3, 48, 320]}},
    {"KeepKeys": {"keep_keys": ["image", "label_ctc", "label_gtc", "length", "valid_ratio"]}},
]


def paddle_available() -> str | None:
    try:
        import paddle  # noqa: F401
        import paddleocr  # noqa: F401
    except ImportError:
        return "paddleocr/paddlepaddle not installed (pip install -r requirements-paddle.txt)"
    return None


def write_inference_yml(model_dir: Path, model_name: str, characters: Sequence[str] | None = None) -> Path:
    """Write the ``inference.yml`` PaddleOCR 3.x needs to load a local det (no characters) or rec folder."""
    if characters is None:
        config = {"Global": {"model_name": model_name}, "PreProcess": {"transform_ops": DET_PREPROCESS},
                  "PostProcess": DET_POSTPROCESS}
    else:
        config = {"Global": {"model_name": model_name}, "PreProcess": {"transform_ops": REC_PREPROCESS},
                  "PostProcess": {"name": "CTCLabelDecode", "character_dict": list(characters)}}
    path = Path(model_dir) / "inference.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class PaddleRecognizer:
    """Text-line recognition with a local PaddleOCR recognition model folder."""

    name = "paddleocr"

    def __init__(self, rec_dir: Path, model_name: str = "PP-OCRv4_mobile_rec", threads: int = 2):
        from paddleocr import TextRecognition

        self._model = TextRecognition(model_name=model_name, model_dir=str(rec_dir), device="cpu",
                                      enable_mkldnn=False, cpu_threads=threads)

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineReading]:
        if not lines:
            return []
        # Paddle models take BGR like OpenCV; our lines are grayscale or BGR.
        images = [np.ascontiguousarray(to_rgb(line)[:, :, ::-1]) for line in lines]
        readings = []
        for line, result in zip(lines, self._model.predict(images, batch_size=1), strict=True):
            text, score = str(result["rec_text"]), float(result["rec_score"])
            step = line.shape[1] / max(1, len(text))
            chars = [CharConfidence(ch, round(score, 4), int(i * step), int((i + 1) * step))
                     for i, ch in enumerate(text)]
            readings.append(LineReading(text, chars, score))
        return readings


def paddle_page_ocr(det_dir: Path, rec_dir: Path, det_name: str = "PP-OCRv4_mobile_det",
                    rec_name: str = "PP-OCRv4_mobile_rec", threads: int = 2) -> Any:
    """A full PaddleOCR pipeline (detection + recognition) from local folders, offline."""
    from paddleocr import PaddleOCR

    return PaddleOCR(
        text_detection_model_dir=str(det_dir), text_detection_model_name=det_name,
        text_recognition_model_dir=str(rec_dir), text_recognition_model_name=rec_name,
        use_doc_orientation_classify=False, use_doc_unwarping=False, use_textline_orientation=False,
        enable_mkldnn=False, device="cpu", cpu_threads=threads,
    )
