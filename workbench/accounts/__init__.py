"""Accounts: who may sign in, and the admin's catalogue.

auth (users, argon2 password hashes, login with lock-out), admin (users' roles, passwords, lock-outs and units;
units; book types).
"""
