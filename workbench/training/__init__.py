"""Learning from officials' corrections: training sets, fine-tuning, export, evaluation; the registry of
recognition-model versions (model_registry) and its administration (model_admin: activate, roll back, compare,
re-recognise open records); per-unit lexicons grown from confirmed names and places (lexicon_growth).

Only ``asternet_torch``, ``trainer``, ``export`` and ``checkpoint`` import torch (requirements-train.txt);
everything else (training-set extraction, folders, evaluation, re-recognition) runs without it.
"""
