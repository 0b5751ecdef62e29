"""Benchmarks: run with ``just bench`` (``python -m benchmarks.webhooks --help``).

``webhooks``  the webhook path under uvicorn, against pgbench running the same SQL.
``fixtures``  a throwaway database: create, migrate, seed, verify, drop.
``server``    the real ``creditline serve`` in a subprocess (optionally under cProfile).
``load``      signed Stripe events and the concurrent httpx load generator.
``pgbench``   the pgbench script derived from the SQL the webhook path executes.
``report``    the table, the JSON object and the one-line summary.

``batch_expire`` (rows/s of ``creditline batch expire-sessions``) stands on its own.
"""
