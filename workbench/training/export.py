"""Export a fine-tuned AsterNet to ONNX (the inference contract) and check onnxruntime agrees.

The exported graph accepts lines up to the length of its positional table (frames of STRIDE
px): wider inputs fail inside ``pos_encoder/Add``. Every input of the check is kept inside that
limit, read from the exported file itself, so a check can never fail on its own input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from asterocr.models.model import AsterNet

from ocr.read.engines.asternet import MAX_WIDTH
from workbench.training.asternet_torch import POSITIONAL_TABLE
from workbench.training.preprocess import SIDE_PAD, STRIDE, line_at_height, normalized_line, pad_batch

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
    max_width: int  # px at height 32: the exported graph's limit (positional table x STRIDE)
    split_lines: int  # check lines too wide for one input, checked as pieces


COMPARED_LOG_PROB = -10.0  # log-probs compared by verify_export: the classes a decoder can pick


# Width of the check's wide line, px at height 32: just over the shipped graph's limit, so a
# passing check proves the extended table is exported, while staying far below its own limit.
WIDE_CHECK_WIDTH = MAX_WIDTH + 76  # 1100 px


class ExportLimitError(ValueError):
    pass


def exported_max_width(onnx_path: Path) -> int:
    """Widest normalized input (px at height 32, side padding included) the graph accepts."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    for initializer in graph.initializer:
        if initializer.name == POSITIONAL_TABLE:
            return int(initializer.dims[0]) * STRIDE
    raise ExportLimitError(f"{onnx_path}: no {POSITIONAL_TABLE} initializer; cannot tell the widest line it reads")


def content_limit(max_width: int) -> int:
    """Widest line (px at height 32) whose normalized tensor, side padding included, fits ``max_width``."""
    return (max_width - 2 * SIDE_PAD) // STRIDE * STRIDE


def fit_to_width(line_images: list[np.ndarray], max_width: int) -> tuple[list[np.ndarray], int]:
    """Lines that fit as they are; a wider one becomes consecutive height-32 pieces.

    Pieces are at most as wide as the wide check line: the engine itself never feeds more
    than 1024 px, and float noise between the runtimes grows with the frames (a near-8192-px
    piece of unusual strokes differs by ~0.08, not a defect the check should report).
    Returns (inputs, number of lines split). Cutting mid-character is fine here: the check
    compares two runtimes on the same input, it does not read the line.
    """
    limit = min(WIDE_CHECK_WIDTH, content_limit(max_width))
    inputs: list[np.ndarray] = []
    split = 0
    for image in line_images:
        resized = line_at_height(image)
        if resized.shape[1] <= limit:
            inputs.append(image)
            continue
        split += 1
        inputs.extend(resized[:, start : start + limit] for start in range(0, resized.shape[1], limit))
    return inputs, split


def wide_check_line(line_images: list[np.ndarray], max_width: int, target: int = WIDE_CHECK_WIDTH) -> np.ndarray:
    """Lines side by side at height 32, cut at ``target`` px and never beyond what the graph reads."""
    if not line_images:
        raise ValueError("no lines to build the wide check line from")
    width = min(target, content_limit(max_width))
    resized = [line_at_height(image) for image in line_images]
    parts: list[np.ndarray] = []
    total = 0
    while total < width:  # repeat the lines when they are all short
        for part in resized:
            parts.append(part)
            total += part.shape[1]
            if total >= width:
                break
    return np.concatenate(parts, axis=1)[:, :width]


def verify_export(model: AsterNet, onnx_path: Path, line_images: list[np.ndarray]) -> ExportCheck:
    """Run each line through onnxruntime and PyTorch and compare the log-probs.

    Lines wider than the wide check line are checked as pieces (see :func:`fit_to_width`), so
    no input exceeds what the exported graph reads.
    """
    max_width = exported_max_width(onnx_path)
    line_images, split = fit_to_width(line_images, max_width)
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
    return ExportCheck(len(batches), worst, same, widest, max_width, split)
