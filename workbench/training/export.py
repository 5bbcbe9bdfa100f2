"""Export a fine-tuned AsterNet to ONNX (the inference contract) and check onnxruntime agrees."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from asterocr.models.model import AsterNet
from torch import nn

from workbench.training.preprocess import normalized_line

OPSET = 17


class _InferenceGraph(nn.Module):
    """images [B, 3, 32, W] -> log_probs [W/4, B, C] (no auxiliary heads)."""

    def __init__(self, model: AsterNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images, return_aux=False)


def export_onnx(model: AsterNet, path: Path, example_width: int = 256) -> Path:
    """TorchScript-based export (dynamo=False) with dynamic batch and width."""
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = _InferenceGraph(model.cpu().eval())
    example = torch.ones((1, 3, 32, example_width), dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(
            graph, (example,), str(path), dynamo=False, opset_version=OPSET,
            input_names=["images"], output_names=["log_probs"],
            dynamic_axes={"images": {0: "batch", 3: "width"}, "log_probs": {0: "frames", 1: "batch"}},
        )
    return path


@dataclass(frozen=True)
class ExportCheck:
    lines: int
    max_abs_diff: float  # log-prob difference, onnxruntime vs PyTorch
    same_argmax: bool  # identical greedy frame labels on every line
    widest_input: int  # px at height 32 (proves the >1024-px fix when above 1024)


def verify_export(model: AsterNet, onnx_path: Path, line_images: list[np.ndarray]) -> ExportCheck:
    """Run each line through onnxruntime and PyTorch and compare the log-probs."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    model = model.cpu().eval()
    worst, same, widest = 0.0, True, 0
    for image in line_images:
        tensor = normalized_line(image)[None]
        widest = max(widest, tensor.shape[3])
        onnx_out = session.run(None, {"images": tensor})[0]
        with torch.no_grad():
            torch_out = model(torch.from_numpy(tensor)).numpy()
        worst = max(worst, float(np.abs(onnx_out - torch_out).max()))
        same = same and bool((onnx_out.argmax(-1) == torch_out.argmax(-1)).all())
    return ExportCheck(len(line_images), worst, same, widest)
