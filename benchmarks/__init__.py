"""Benchmarks: run with ``just bench`` (``python -m benchmarks.suite --help``).

``suite``       the whole run: scenarios, references, checks, JSON and chart.
``scenarios``   webhooks and reads with wrk, each with its references in the same run.
``debit_scenarios``, ``debits``  single and batched debits against pgbench.
``bare_app``    the references served over HTTP: a bare endpoint, and hand-written
                Litestar + msgspec + asyncpg handlers doing the service's I/O.
``layers``      one grant at a time: raw asyncpg, SQLAlchemy Core, the service's use case.
``references``, ``pgbench``  pgbench on four hand-written statements and on the SQL the
                webhook path executes (captured, then derived).
``fixtures``, ``seed_sql``  a throwaway database: create, migrate, seed (ten million rows
                with ``--scale``), verify, drop.
``server``      the real ``creditline serve`` in a subprocess.
``wrk``, ``profile``, ``chart``  the load generator, py-spy sampling, the PNG.
``webhooks``, ``load``, ``report``  the earlier httpx load generator for webhooks alone.

``batch_expire`` (rows/s of ``creditline batch expire-sessions``) stands on its own.
"""
