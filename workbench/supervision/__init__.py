"""Supervision: the supervisors' side of review.

supervision (flagged, low-confidence and cross-check queues, reassign, unflag), qa (blind QA samples of approved
records and each verifier's error rate).
"""
