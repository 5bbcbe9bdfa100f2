"""Learning from officials' corrections: training sets, fine-tuning, export, evaluation.

Only ``asternet_torch``, ``trainer``, ``export`` and ``checkpoint`` import torch (requirements-train.txt);
everything else (training-set extraction, folders, evaluation, re-recognition) runs without it.
"""
