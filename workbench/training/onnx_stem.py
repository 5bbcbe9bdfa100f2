"""The frozen stem (through layer3) run by onnxruntime instead of PyTorch, for caching on CPU.

Fine-tuning caches the frozen stem's output once per line view, and on a CPU that caching is most
of a run: PyTorch's convolutions took ~110 ms per address line where onnxruntime runs the same
stem in ~50 ms (2 cores, one thread each). The stem is cut out of the parent model's own ONNX
file (the weights the head is trained on top of), so the features are the exported graph's own;
they agree with PyTorch's to float16 precision (the cache's own). A model whose graph does not
name the stem's output as the shipped export does gets None, and the caller keeps PyTorch.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

# The stem's last activation in the shipped graph and in `workbench.training.export` exports
# (torch.onnx names nodes after the module path: backbone.layer3[1], its SiLU's Mul).
STEM_OUTPUT = "/backbone/layer3/layer3.1/Mul_output_0"
INPUT = "images"


class OnnxStem:
    """Callable: a [B, 3, 32, W] float32 batch -> [B, 512, 4, W/4] stem features (torch, float32)."""

    def __init__(self, session: object) -> None:
        self._session = session

    def __call__(self, batch: np.ndarray) -> torch.Tensor:
        (features,) = self._session.run([STEM_OUTPUT], {INPUT: batch})  # type: ignore[attr-defined]
        return torch.from_numpy(np.ascontiguousarray(features))


def onnx_stem(onnx_path: Path, threads: int) -> OnnxStem | None:
    """The stem of the model in ``onnx_path`` as an onnxruntime session, or None when its graph has
    no ``STEM_OUTPUT`` (or onnx cannot cut it): the caller then runs the stem in PyTorch."""
    import onnx
    import onnxruntime as ort
    from onnx.utils import Extractor

    try:
        graph = onnx.shape_inference.infer_shapes(onnx.load(str(onnx_path)))
        if not any(STEM_OUTPUT in node.output for node in graph.graph.node):
            log.info("no %s in %s: the stem is cached with PyTorch", STEM_OUTPUT, onnx_path)
            return None
        stem = Extractor(graph).extract_model([INPUT], [STEM_OUTPUT])
    except (ValueError, onnx.checker.ValidationError) as exc:
        log.info("could not cut the stem out of %s (%s): the stem is cached with PyTorch", onnx_path, exc)
        return None
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(stem.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return OnnxStem(session)
