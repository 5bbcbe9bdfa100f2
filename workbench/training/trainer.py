"""Fine-tuning AsterNet on labelled lines (CTC), with a frozen, cached convolutional stem.

Measured on 2 CPU cores (ENGINEERING.md): full backprop costs ~0.5 s per line, while freezing
the stem through layer3 and caching its output once per line costs ~0.1 s per line for
layer4 + BiLSTM + language head + classifier. On a CPU the stem is cached with onnxruntime
(workbench.training.onnx_stem: about twice PyTorch's speed). Each line is cached clean plus ``augment_views``
augmented copies (faded ink, skew, pen width, blur); every epoch picks one copy per line.
Early stopping keeps the head with the best validation CER.

By default the run picks its own recipe (:func:`auto_recipe`): small sets get more epochs and
more augmented copies, large ones fewer; after the first epoch the plan is cut to what the
time budget still allows, so the learning-rate schedule ends inside the budget instead of
being stopped halfway through a high learning rate.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from asterocr.models.model import AsterNet
from torch import nn

from ocr.read.decoding import greedy_runs
from workbench.training.asternet_torch import build_from_onnx, freeze_for_head_training, head_log_probs, stem_features
from workbench.training.augment import augment_line
from workbench.training.dataset import LabelledLine
from workbench.training.evaluate import LineScores, score_texts
from workbench.training.preprocess import HEIGHT, STRIDE, normalized_line, pad_batch

log = logging.getLogger(__name__)

CACHE_BATCH = 16  # lines per frozen-stem batch when caching
WIDTH_BUCKET = 16  # px at height 32: lines this close in width share a batch (as in the engine)


# The automatic recipe. A few hundred optimizer steps are what a head needs to move from the
# shipped reading to a new hand; below that, more epochs over more augmented copies make up for
# a small set (an office's first 100 confirmed lines), above it one pass per copy is enough.
TARGET_STEPS = 1200
MIN_EPOCHS, MAX_EPOCHS = 4, 30
VIEWS_FOR_LINES = 1500  # augmented copies per line: about this many lines' worth in all
MAX_VIEWS = 4


@dataclass(frozen=True)
class Recipe:
    epochs: int
    augment_views: int
    patience: int


def auto_recipe(train_lines: int, batch_size: int) -> Recipe:
    """Epochs, augmented copies and patience for ``train_lines`` lines (before the time budget cuts it)."""
    steps_per_epoch = max(1, math.ceil(train_lines / batch_size))
    epochs = min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(TARGET_STEPS / steps_per_epoch)))
    views = min(MAX_VIEWS, max(1, round(VIEWS_FOR_LINES / max(1, train_lines))))
    # Validation on a small set is noisy: more epochs get more patience.
    return Recipe(epochs=epochs, augment_views=views, patience=2 if epochs <= 8 else 3)


def epochs_in_budget(planned: int, done: int, seconds_per_epoch: float, seconds_left: float) -> int:
    """How many epochs the run can finish: ``planned`` at most, at least the ``done`` ones."""
    if seconds_per_epoch <= 0:
        return planned
    return max(done, min(planned, done + int(seconds_left // seconds_per_epoch)))


@dataclass(frozen=True)
class FineTuneConfig:
    epochs: int | None = None  # None: the automatic recipe, cut to the time budget
    lr: float = 3e-4
    weight_decay: float = 1e-2
    batch_size: int = 16
    max_minutes: float = 55.0  # the whole run, caching included
    device: str = "auto"  # "cpu", "cuda" or "auto" (cuda when present)
    patience: int | None = None  # epochs without a better validation CER before stopping; None: automatic
    augment_views: int | None = None  # augmented copies cached per line, besides the clean one; None: automatic
    seed: int = 0
    threads: int = 2  # CPU threads for torch

    def recipe(self, train_lines: int) -> Recipe:
        auto = auto_recipe(train_lines, self.batch_size)
        return Recipe(epochs=self.epochs if self.epochs is not None else auto.epochs,
                      augment_views=self.augment_views if self.augment_views is not None else auto.augment_views,
                      patience=self.patience if self.patience is not None else auto.patience)


@dataclass(frozen=True)
class EpochLog:
    epoch: int
    train_loss: float
    val_cer: float | None
    val_line_exact: float | None
    seconds: float


@dataclass
class FineTuneResult:
    model: AsterNet  # eval mode, best head loaded
    alphabet: tuple[str, ...]
    history: list[EpochLog]
    val_before: LineScores | None
    val_after: LineScores | None
    minutes: float
    stopped: str  # "epochs" | "early_stopping" | "time_limit"
    device: str
    recipe: Recipe  # as planned before the time budget cut the epochs
    train_lines: int
    skipped_lines: int  # labels with characters outside the alphabet
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class _Example:
    views: list[torch.Tensor]  # each [512, 4, T] float16 on the cache device
    labels: list[int]
    text: str


def pick_device(requested: str) -> torch.device:
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA device is available")
    if requested in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def load_alphabet(vocab_path: Path) -> tuple[str, ...]:
    return tuple(json.loads(vocab_path.read_text(encoding="utf-8"))["chars"])


def encode_text(text: str, index: dict[str, int]) -> list[int] | None:
    labels = [index.get(ch) for ch in text]
    return None if any(lab is None for lab in labels) else [int(lab) for lab in labels if lab is not None]


class _Deadline:
    def __init__(self, minutes: float) -> None:
        self.start = time.monotonic()
        self.limit = minutes * 60.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def passed(self) -> bool:
        return self.elapsed > self.limit


def _width_batches(widths: list[int], batch: int, tolerance: int) -> list[list[int]]:
    """Indices grouped by similar width (like the engine: padding changes a BiLSTM's output)."""
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    groups: list[list[int]] = []
    for i in order:
        first = widths[groups[-1][0]] if groups else 0
        if groups and len(groups[-1]) < batch and widths[i] - first <= max(tolerance, first // 10):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


StemEncoder = Callable[[np.ndarray], torch.Tensor]  # [B, 3, 32, W] float32 -> [B, 512, 4, W/4]


def stem_encoder(model: AsterNet, onnx_path: Path, device: torch.device, threads: int) -> StemEncoder:
    """What computes the frozen stem for caching: onnxruntime on a CPU (about twice PyTorch's speed,
    see workbench.training.onnx_stem), else the PyTorch model on ``device``."""
    if device.type == "cpu":
        from workbench.training.onnx_stem import onnx_stem

        stem = onnx_stem(onnx_path, threads)
        if stem is not None:
            return stem

    @torch.no_grad()
    def torch_stem(batch: np.ndarray) -> torch.Tensor:
        return stem_features(model, torch.from_numpy(batch).to(device))

    return torch_stem


@torch.no_grad()
def _cache_stem(stem: StemEncoder, images: list[np.ndarray]) -> list[torch.Tensor]:
    """Frozen stem outputs per normalized line, trimmed to the line's own frames, float16."""
    out: list[torch.Tensor | None] = [None] * len(images)
    for group in _width_batches([image.shape[2] for image in images], CACHE_BATCH, WIDTH_BUCKET):
        width = max(images[i].shape[2] for i in group)
        batch = np.ones((len(group), 3, HEIGHT, width), dtype=np.float32)
        for k, i in enumerate(group):
            batch[k, :, :, : images[i].shape[2]] = images[i]
        feats = stem(batch)
        for k, i in enumerate(group):
            out[i] = feats[k, :, :, : images[i].shape[2] // STRIDE].to(torch.float16).clone()
    return [t for t in out if t is not None]


@torch.no_grad()
def _blank_column(model: AsterNet, device: torch.device) -> torch.Tensor:
    """Stem features of white paper: what padding frames look like to the head."""
    white = torch.ones((1, 3, HEIGHT, 64), device=device)
    return stem_features(model, white)[0, :, :, 8:9].to(torch.float16)  # a column far from the edges


def _stack(views: list[torch.Tensor], pad: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    frames = torch.tensor([v.shape[2] for v in views], dtype=torch.long)
    width = int(frames.max())
    batch = pad.expand(len(views), -1, -1, width).clone()
    for k, v in enumerate(views):
        batch[k, :, :, : v.shape[2]] = v
    return batch.to(device=device, dtype=torch.float32), frames


@torch.no_grad()
def _decode(model: AsterNet, examples: list[_Example], pad: torch.Tensor, device: torch.device,
            alphabet: tuple[str, ...], batch_size: int) -> list[str]:
    model.eval()
    texts = [""] * len(examples)
    frames_per_line = [e.views[0].shape[2] for e in examples]
    for chunk in _width_batches(frames_per_line, batch_size, WIDTH_BUCKET // STRIDE):
        feats, frames = _stack([examples[i].views[0] for i in chunk], pad, device)
        log_probs = head_log_probs(model, feats).float().cpu().numpy()
        for k, i in enumerate(chunk):
            runs = greedy_runs(log_probs[: int(frames[k]), k])
            texts[i] = "".join(alphabet[label] for label, _, _ in runs)
    return texts


def _validate(model, examples, pad, device, alphabet, batch_size) -> LineScores | None:
    if not examples:
        return None
    return score_texts([e.text for e in examples], _decode(model, examples, pad, device, alphabet, batch_size))


def _examples(stem: StemEncoder, lines: list[LabelledLine], index: dict[str, int], views: int,
              rng: np.random.Generator) -> tuple[list[_Example], int]:
    kept = [(line, labels) for line in lines if (labels := encode_text(line.text, index))]
    skipped = len(lines) - len(kept)
    images = [[normalized_line(line.image)] for line, _ in kept]
    for k, (line, _) in enumerate(kept):
        images[k].extend(normalized_line(augment_line(line.image, rng)) for _ in range(views))
    flat = [img for per_line in images for img in per_line]
    cached = _cache_stem(stem, flat)
    examples, position = [], 0
    for (line, labels), per_line in zip(kept, images, strict=True):
        examples.append(_Example(cached[position : position + len(per_line)], labels, line.text))
        position += len(per_line)
    return examples, skipped


def _train_batches(examples: list[_Example], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Shuffled batches of similar-width lines (sorted within random chunks)."""
    order = rng.permutation(len(examples)).tolist()
    chunk = batch_size * 8
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: examples[i].views[0].shape[2])
        batches.extend(part[k : k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


ProgressCallback = Callable[[str], None]


def fine_tune(
    train_lines: list[LabelledLine],
    validation_lines: list[LabelledLine],
    onnx_path: Path,
    vocab_path: Path,
    config: FineTuneConfig = FineTuneConfig(),
    progress: ProgressCallback | None = None,
) -> FineTuneResult:
    """Fine-tune the head of the model in ``onnx_path`` on ``train_lines``; early-stop on validation."""
    say = progress or (lambda message: log.info(message))
    deadline = _Deadline(config.max_minutes)
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    device = pick_device(config.device)
    alphabet = load_alphabet(vocab_path)
    index = {ch: i for i, ch in enumerate(alphabet) if i != 0}
    model = build_from_onnx(onnx_path).to(device)
    head = freeze_for_head_training(model)
    model.eval()
    recipe = config.recipe(len(train_lines))
    say(f"recipe: up to {recipe.epochs} epochs, {recipe.augment_views} augmented copies per line, "
        f"patience {recipe.patience}" + (" (automatic)" if config.epochs is None else ""))
    stem = stem_encoder(model, onnx_path, device, config.threads)
    train, skipped = _examples(stem, train_lines, index, recipe.augment_views, rng)
    validation, skipped_val = _examples(stem, validation_lines, index, 0, rng)
    if not train:
        raise ValueError("no trainable lines (empty set, or every label has characters outside the alphabet)")
    pad = _blank_column(model, device)
    say(f"cached stem features of {len(train)} train / {len(validation)} validation lines "
        f"on {device.type} in {deadline.elapsed:.0f} s")
    val_before = _validate(model, validation, pad, device, alphabet, config.batch_size)
    if val_before:
        say(f"validation before: CER {val_before.cer:.4f}, line exact {val_before.line_exact:.3f}")

    optimizer = torch.optim.AdamW(head, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    planned_epochs = recipe.epochs
    # Cosine decay to 10% of lr over the planned steps (re-planned once the first epoch is timed).
    plan = {"steps": max(1, steps_per_epoch * planned_epochs)}

    def lr_factor(step: int) -> float:
        total = plan["steps"]
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    best_cer = val_before.cer if val_before else math.inf
    best_state = copy.deepcopy({k: v.detach().clone() for k, v in model.state_dict().items()})
    history: list[EpochLog] = []
    stopped, since_best, cut_by_budget = "epochs", 0, False
    epoch = 0
    while epoch < planned_epochs:
        epoch += 1
        started = time.monotonic()
        model.train()
        losses = []
        for batch in _train_batches(train, config.batch_size, rng):
            views = [train[i].views[int(rng.integers(len(train[i].views)))] for i in batch]
            feats, frames = _stack(views, pad, device)
            targets = torch.tensor([lab for i in batch for lab in train[i].labels], dtype=torch.long)
            target_lengths = torch.tensor([len(train[i].labels) for i in batch], dtype=torch.long)
            log_probs = head_log_probs(model, feats)
            loss = ctc(log_probs.float().cpu() if device.type != "cpu" else log_probs, targets, frames, target_lengths)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(head, 5.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
            if deadline.passed():
                stopped = "time_limit"
                break
        scores = _validate(model, validation, pad, device, alphabet, config.batch_size)
        entry = EpochLog(epoch, float(np.mean(losses)) if losses else math.nan,
                         scores.cer if scores else None, scores.line_exact if scores else None,
                         time.monotonic() - started)
        history.append(entry)
        if epoch == 1 and config.epochs is None:
            fits = epochs_in_budget(planned_epochs, 1, entry.seconds, deadline.limit - deadline.elapsed)
            if fits < planned_epochs:
                say(f"time budget: {fits} of {planned_epochs} planned epochs fit")
                planned_epochs, cut_by_budget = fits, True
                plan["steps"] = max(1, steps_per_epoch * planned_epochs)
        say(f"epoch {epoch}: loss {entry.train_loss:.4f}"
            + (f", validation CER {scores.cer:.4f}, line exact {scores.line_exact:.3f}" if scores else "")
            + f" ({entry.seconds:.0f} s)")
        if scores is None or scores.cer < best_cer:
            best_cer = scores.cer if scores else best_cer
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            since_best = 0
        else:
            since_best += 1
        if stopped == "time_limit":
            break
        if scores is not None and since_best >= recipe.patience:
            stopped = "early_stopping"
            break
        if deadline.passed():
            stopped = "time_limit"
            break
    if stopped == "epochs" and cut_by_budget:
        stopped = "time_limit"
    model.load_state_dict(best_state)
    model.eval()
    val_after = _validate(model, validation, pad, device, alphabet, config.batch_size)
    return FineTuneResult(
        model=model.cpu(), alphabet=alphabet, history=history, val_before=val_before, val_after=val_after,
        minutes=deadline.elapsed / 60.0, stopped=stopped, device=device.type, recipe=recipe, train_lines=len(train),
        skipped_lines=skipped + skipped_val,
    )


@torch.no_grad()
def ctc_loss_on(model: AsterNet, lines: list[LabelledLine], alphabet: tuple[str, ...], batch_size: int = 16) -> float:
    """Mean CTC loss of the full model (eval mode) on labelled lines: did training fit them?"""
    index = {ch: i for i, ch in enumerate(alphabet) if i != 0}
    ctc = nn.CTCLoss(blank=0, zero_infinity=True, reduction="sum")
    model = model.eval()
    kept = [(normalized_line(line.image), labels) for line in lines if (labels := encode_text(line.text, index))]
    total = 0.0
    for start in range(0, len(kept), batch_size):
        chunk = kept[start : start + batch_size]
        batch, frames = pad_batch([image for image, _ in chunk])
        log_probs = model(torch.from_numpy(batch))
        targets = torch.tensor([lab for _, labels in chunk for lab in labels], dtype=torch.long)
        lengths = torch.tensor([len(labels) for _, labels in chunk], dtype=torch.long)
        total += float(ctc(log_probs, targets, torch.from_numpy(frames), lengths))
    return total / max(1, len(kept))
