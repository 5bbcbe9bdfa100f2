"""Cross-check of approved records against a population-database extract.

extract (read + validate files), normalize (keys), index (hash indexes), matching (one person),
service (import / run / matched IDs), tracking (supervisor queue and its Excel export).
"""
