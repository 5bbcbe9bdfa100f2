"""Export a fine-tuned AsterNet to ONNX (the inference contract) and check onnxruntime agrees."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from asterocr.models.model import AsterNet

from workbench.training.preprocess import normalized_line, pad_batch

OPSET = 17


def export_onnx(model: AsterNet, path: Path, example_width: int = 256) -> Path:
    """TorchScript-based export (dynamo=False) with dynamic batch and width.

    The module itself is exported (its forward returns only the main log-probs), so parameter
    names stay those of the published architecture and the file loads back with
    ``build_from_onnx`` (a later fine-tune can start from it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = model.cpu().eval()
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
    inputs: int  # single lines plus one padded batch
    max_abs_diff: float  # log-prob difference, onnxruntime vs PyTorch (classes >= COMPARED_LOG_PROB)
    same_argmax: bool  # identical greedy frame labels on every line
    widest_input: int  # px at height 32 (proves the >1024-px fix when above 1024)


COMPARED_LOG_PROB = -10.0  # log-probs compared by verify_export: the classes a decoder can pick


def verify_export(model: AsterNet, onnx_path: Path, line_images: list[np.ndarray]) -> ExportCheck:
    """Run each line through onnxruntime and PyTorch and compare the log-probs."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    model = model.cpu().eval()
    worst, same, widest = 0.0, True, 0
    batches = [normalized_line(image)[None] for image in line_images]
    if len(line_images) >= 2:  # the engine batches lines of similar width: check a batch too
        batches.append(pad_batch([normalized_line(image) for image in line_images[:2]])[0])
    for tensor in batches:
        widest = max(widest, tensor.shape[3])
        onnx_out = session.run(None, {"images": tensor})[0]
        with torch.no_grad():
            torch_out = model(torch.from_numpy(tensor)).numpy()
        # Classes both runtimes give under e^-10 differ by float noise that changes no reading.
        relevant = np.maximum(onnx_out, torch_out) >= COMPARED_LOG_PROB
        worst = max(worst, float(np.abs(onnx_out - torch_out)[relevant].max(initial=0.0)))
        same = same and bool((onnx_out.argmax(-1) == torch_out.argmax(-1)).all())
    return ExportCheck(len(batches), worst, same, widest)
