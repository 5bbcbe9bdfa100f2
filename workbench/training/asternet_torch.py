"""The published AsterNet architecture (``asterocr/models``) loaded from the shipped ONNX.

The ONNX graph has batch-norm folded into the convolutions and lacks the auxiliary heads,
so each conv + BN pair becomes a biased conv + identity, and the initializers are copied in
by the module path that the exporter wrote into every node name (``/backbone/layer1/...``).
The positional table of the language head is extended beyond the shipped 256 frames so a
re-exported model reads lines wider than 1024 px.

Imports torch: only the training side uses this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from asterocr.models.model import AsterNet
from torch import nn

NUM_CLASSES = 227
SHIPPED_POSITIONS = 256
EXTENDED_POSITIONS = 2048  # frames: lines up to 8192 px at height 32
# The positional table's name as module buffer, state-dict key and ONNX initializer: its length
# is the widest input (in frames) an exported graph accepts.
POSITIONAL_TABLE = "language_head.pos_encoder.pe"
# (conv path, batch-norm path) pairs whose BN the exporter folded into the conv.
_BLOCK_PAIRS = (("pw1", "bn1"), ("dw", "bn2"), ("pw2", "bn3"), ("shortcut.0", "shortcut.1"))
_STEM_PAIRS = (("backbone.stem.conv_main.0", "backbone.stem.conv_main.1"),
               ("backbone.stem.hp_proj.0", "backbone.stem.hp_proj.1"),
               ("backbone.layer4.1", "backbone.layer4.2"))
# ONNX LSTM gate order is (i, o, f, c); PyTorch's is (i, f, g=c, o).
_ONNX_TO_TORCH_GATES = (0, 2, 3, 1)


@dataclass(frozen=True)
class LoadReport:
    copied: int  # parameters/buffers written from ONNX initializers
    onnx_initializers: int
    unused: tuple[str, ...]  # initializers that found no home (should be empty)


def _get(module: nn.Module, path: str) -> nn.Module:
    for part in path.split("."):
        module = getattr(module, part)
    return module


def _set(module: nn.Module, path: str, child: nn.Module) -> None:
    parent_path, _, name = path.rpartition(".")
    parent = _get(module, parent_path) if parent_path else module
    setattr(parent, name, child)


def _fold_batch_norm(model: AsterNet) -> None:
    """Replace every BN by identity and give its conv a bias (where the folded shift lives)."""
    pairs = list(_STEM_PAIRS)
    for layer in ("layer1", "layer2", "layer3", "layer4"):
        sequence = _get(model, f"backbone.{layer}")
        assert isinstance(sequence, nn.Sequential)
        for index, block in enumerate(sequence):
            if block.__class__.__name__ != "SVTRLocalBlock":
                continue
            shortcut = block.get_submodule("shortcut")
            identity_shortcut = isinstance(shortcut, nn.Sequential) and len(shortcut) == 0
            for conv_name, bn_name in _BLOCK_PAIRS:
                if conv_name.startswith("shortcut") and identity_shortcut:
                    continue
                pairs.append((f"backbone.{layer}.{index}.{conv_name}", f"backbone.{layer}.{index}.{bn_name}"))
    for conv_path, bn_path in pairs:
        conv = _get(model, conv_path)
        assert isinstance(conv, nn.Conv2d) and isinstance(_get(model, bn_path), nn.BatchNorm2d)
        conv.bias = nn.Parameter(torch.zeros(conv.out_channels))
        _set(model, bn_path, nn.Identity())


def sinusoid_table(length: int, d_model: int) -> torch.Tensor:
    """The positional table formula of asterocr's PositionalEncoding, [length, 1, d_model]."""
    position = torch.arange(0, length, dtype=torch.float).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * div_term)
    table[:, 1::2] = torch.cos(position * div_term)
    return table.unsqueeze(1)


def _onnx_module_path(node_name: str) -> str:
    """'/backbone/layer1/layer1.0/pw1/Conv' -> 'backbone.layer1.0.pw1'."""
    parts = [p for p in node_name.split("/") if p][:-1]
    out: list[str] = []
    for part in parts:
        if out and part.startswith(out[-1] + "."):  # exporter repeats the parent: layer1/layer1.0
            out[-1] = part
        else:
            out.append(part)
    return ".".join(out)


def _copy(target: torch.Tensor, value: np.ndarray, name: str) -> None:
    tensor = torch.from_numpy(np.array(value, copy=True)).to(target.dtype)
    if tuple(tensor.shape) != tuple(target.shape):
        raise ValueError(f"{name}: ONNX shape {tuple(tensor.shape)} != module shape {tuple(target.shape)}")
    with torch.no_grad():
        target.copy_(tensor)


def _lstm_gates(weight: np.ndarray) -> np.ndarray:
    """Reorder the 4 gate blocks of an ONNX LSTM tensor (last-but-one axis = 4*hidden)."""
    blocks = np.split(weight, 4, axis=0)
    return np.concatenate([blocks[i] for i in _ONNX_TO_TORCH_GATES], axis=0)


def load_onnx_weights(model: AsterNet, onnx_path: Path) -> LoadReport:
    """Copy the ONNX initializers into the (BN-folded) model by node module path and shape."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    used: set[str] = set()
    copied = 0
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    named = {**buffers, **params}
    for name, value in values.items():  # named initializers: same name as the module attribute
        if name in named and name != POSITIONAL_TABLE:
            _copy(named[name], value, name)
            used.add(name)
            copied += 1
    if POSITIONAL_TABLE in values:
        _check_positional_table(values[POSITIONAL_TABLE])
        model.language_head.pos_encoder.pe = torch.from_numpy(values[POSITIONAL_TABLE].copy())
        used.add(POSITIONAL_TABLE)
        copied += 1
    for node in graph.node:
        anonymous = [i for i in node.input if i in values and i not in used]
        if not anonymous:
            continue
        path = _onnx_module_path(node.name)
        if node.op_type == "Conv" and path == "backbone.stem":  # the fixed Laplacian kernel
            _copy(buffers["backbone.stem.hp_kernel"], values[anonymous[0]], anonymous[0])
        elif node.op_type == "Conv":
            conv = _get(model, path)
            assert isinstance(conv, nn.Conv2d) and conv.bias is not None
            _copy(conv.weight, values[anonymous[0]], anonymous[0])
            _copy(conv.bias, values[anonymous[1]], anonymous[1])
            copied += 2
        elif node.op_type == "MatMul":  # Linear exported as x @ W^T
            module = _get(model, path)
            weight = module.in_proj_weight if isinstance(module, nn.MultiheadAttention) else module.weight
            assert isinstance(weight, torch.Tensor)
            _copy(weight, values[anonymous[0]].T, anonymous[0])
            copied += 1
        elif node.op_type == "LSTM":
            copied += _copy_lstm(model, node, values)
        else:
            continue
        used.update(anonymous)
    unused = tuple(sorted(set(values) - used))
    return LoadReport(copied=copied, onnx_initializers=len(values), unused=unused)


def _check_positional_table(shipped: np.ndarray) -> None:
    # The shipped table is the formula stored at bfloat16 precision (errors up to ~2e-3).
    expected = sinusoid_table(shipped.shape[0], shipped.shape[2]).numpy()
    if not np.allclose(shipped, expected, atol=4e-3):
        raise ValueError("the ONNX positional table is not the sinusoid formula; cannot extend it")


def _copy_lstm(model: AsterNet, node, values: dict[str, np.ndarray]) -> int:
    """ONNX LSTM (W, R, B) of one bidirectional layer -> weight_ih/hh, bias_ih/hh (+ _reverse)."""
    layer = 0 if node.name.endswith("/LSTM") else int(node.name.rsplit("_", 1)[1])
    w, r, b = (values[node.input[i]] for i in (1, 2, 3))
    lstm = model.sequence.lstm
    hidden = lstm.hidden_size
    for direction, suffix in enumerate(("", "_reverse")):
        _copy(getattr(lstm, f"weight_ih_l{layer}{suffix}"), _lstm_gates(w[direction]), node.input[1])
        _copy(getattr(lstm, f"weight_hh_l{layer}{suffix}"), _lstm_gates(r[direction]), node.input[2])
        _copy(getattr(lstm, f"bias_ih_l{layer}{suffix}"), _lstm_gates(b[direction][: 4 * hidden]), node.input[3])
        _copy(getattr(lstm, f"bias_hh_l{layer}{suffix}"), _lstm_gates(b[direction][4 * hidden :]), node.input[3])
    return 8


def extend_positions(model: AsterNet, length: int = EXTENDED_POSITIONS) -> None:
    """A longer positional table so exported graphs accept wide lines.

    The shipped rows are kept as they are (so outputs on short lines do not move); the new
    rows follow the same sinusoid formula.
    """
    encoder = model.language_head.pos_encoder
    current = encoder.pe
    if current.shape[0] >= length:
        return
    table = sinusoid_table(length, current.shape[2]).to(current.device, current.dtype)
    table[: current.shape[0]] = current
    encoder.pe = table


def _folded_asternet() -> AsterNet:
    """The published architecture with batch-norm folded away, as the ONNX holds it."""
    model = AsterNet(num_classes=NUM_CLASSES, use_ilm=True)
    _fold_batch_norm(model)
    return model


def build_from_onnx(onnx_path: Path, extend: bool = True) -> AsterNet:
    """AsterNet in eval mode with the ONNX weights; fails loudly on any unmapped weight."""
    model = _folded_asternet()
    report = load_onnx_weights(model, onnx_path)
    if report.unused:
        raise ValueError(f"ONNX initializers without a module: {report.unused}")
    if extend:
        extend_positions(model)
    return model.eval()


def build_from_state(state: dict[str, torch.Tensor]) -> AsterNet:
    """AsterNet in eval mode from a fine-tuned model's ``state_dict`` (a training checkpoint)."""
    model = _folded_asternet()
    extend_positions(model, int(state[POSITIONAL_TABLE].shape[0]))  # the table length it was trained with
    model.load_state_dict(state)
    return model.eval()


# --- split at layer3: the frozen part runs once per line, the rest is trained ---------------

def stem_features(model: AsterNet, images: torch.Tensor) -> torch.Tensor:
    """[B, 3, 32, W] -> [B, 512, 4, W/4]: stem through layer3 (frozen while fine-tuning)."""
    backbone = model.backbone
    x = backbone.stem(images)
    x = backbone.layer1(x)
    x = backbone.layer2(x)
    return backbone.layer3(x)


def head_log_probs(model: AsterNet, features: torch.Tensor) -> torch.Tensor:
    """[B, 512, 4, W/4] -> [W/4, B, C] log-probs: layer4 + BiLSTM + language head + classifier."""
    x = model.backbone.layer4(features).squeeze(2).permute(2, 0, 1)
    h_vis = model.sequence(x)
    h_lang = model.language_head(h_vis)
    h_fused, _ = model.fusion(h_vis, h_lang)
    return model.log_softmax(model.classifier(h_fused))


def trainable_head_parameters(model: AsterNet) -> list[nn.Parameter]:
    """Parameters updated by fine-tuning (the auxiliary heads are not in the ONNX: left out)."""
    modules = (model.backbone.layer4, model.sequence, model.language_head, model.fusion, model.classifier)
    return [p for m in modules for p in m.parameters()]


def freeze_for_head_training(model: AsterNet) -> list[nn.Parameter]:
    """Freeze everything but the head; returns the head parameters."""
    for p in model.parameters():
        p.requires_grad_(False)
    head = trainable_head_parameters(model)
    for p in head:
        p.requires_grad_(True)
    return head
