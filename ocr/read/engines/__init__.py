"""Text-line recognition engines. AsterNet is the default; the others are optional peers."""

from ocr.read.engines.base import CTCRecognizer, LineLogProbs, Recognizer

__all__ = ["CTCRecognizer", "LineLogProbs", "Recognizer"]
