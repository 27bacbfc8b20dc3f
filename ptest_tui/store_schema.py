"""The state store's schema: one migration per version, applied in order on open.

Each entry of :data:`MIGRATIONS` migrates from version N-1 to N. Never edit one that has
shipped: add a new version instead (tests/unit/test_store.py migrates a first-version
database).
"""

from __future__ import annotations

SCHEMA_VERSION = 7

# Each entry migrates from version N-1 to N; never edit one that has shipped.
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE environments (
        name TEXT PRIMARY KEY,
        isolation TEXT NOT NULL,
        status TEXT NOT NULL,
        spec TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        location TEXT NOT NULL DEFAULT '',
        engine_state TEXT NOT NULL DEFAULT '{}',
        owner_pid INTEGER,
        owner_start REAL,
        session TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE env_transitions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        env TEXT NOT NULL,
        old TEXT NOT NULL,
        new TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    CREATE INDEX env_transitions_env ON env_transitions(env);
    """,
    # Leases: one row per command running in an env, so the env shows busy while any runs
    # and cannot be deleted or repaired under them.
    2: """
    CREATE TABLE env_leases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        env TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started REAL,
        purpose TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    CREATE INDEX env_leases_env ON env_leases(env);
    """,
    # Test objects: what was added (or declared and used) and the last known state; the
    # live truth of a server is its pid file or container (see objects/records.py).
    3: """
    CREATE TABLE objects (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        source TEXT NOT NULL DEFAULT 'cli',
        state TEXT NOT NULL DEFAULT 'stopped',
        owner_pid INTEGER,
        owner_start REAL,
        error TEXT NOT NULL DEFAULT '',
        started_at REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # Runs and their results (runs/history.py). Results are written as they arrive, so a
    # killed or cancelled run keeps what it had.
    4: """
    CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        selection TEXT NOT NULL DEFAULT '[]',
        envs TEXT NOT NULL DEFAULT '[]',
        message TEXT NOT NULL DEFAULT '',
        counts TEXT NOT NULL DEFAULT '{}',
        owner_pid INTEGER,
        owner_start REAL,
        started_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE TABLE results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        suite TEXT NOT NULL,
        env TEXT NOT NULL,
        case_name TEXT NOT NULL,
        parent TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        duration REAL NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        stdout TEXT NOT NULL DEFAULT '',
        stderr TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 1,
        flaky INTEGER NOT NULL DEFAULT 0,
        started_at REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX results_run ON results(run_id);
    CREATE INDEX results_case ON results(suite, case_name);
    """,
    # Snapshots (ptest_tui/snapshots): one row per snapshot, its content in the blob store
    # under .ptest/snapshots; env_rebuilds journals restores and migrations in flight, so
    # the next start can remove a half-built target or finish a switch (snapshots/swap.py).
    5: """
    CREATE TABLE snapshots (
        id TEXT PRIMARY KEY,
        env TEXT NOT NULL,
        isolation TEXT NOT NULL,
        tag TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        manifest TEXT NOT NULL,
        files INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        packages INTEGER NOT NULL DEFAULT 0,
        origin TEXT NOT NULL DEFAULT 'created',
        created_at REAL NOT NULL
    );
    CREATE INDEX snapshots_env ON snapshots(env);
    CREATE TABLE env_rebuilds (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        env TEXT NOT NULL,
        temp TEXT NOT NULL,
        phase TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}',
        owner_pid INTEGER,
        owner_start REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # Engine benchmarks (ptest_tui/benchmark): one batch per `benchmark` invocation, owned
    # by its process while it runs (so a later one can tell its temporary envs from a
    # killed one's leftovers), and one row per engine/scenario/variant measured.
    6: """
    CREATE TABLE benchmark_batches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        status TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        session TEXT NOT NULL DEFAULT '',
        owner_pid INTEGER,
        owner_start REAL,
        started_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE TABLE benchmark_results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        batch INTEGER NOT NULL,
        engine TEXT NOT NULL,
        scenario TEXT NOT NULL,
        variant TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        samples TEXT NOT NULL DEFAULT '[]',
        reason TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    CREATE INDEX benchmark_results_batch ON benchmark_results(batch);
    CREATE INDEX benchmark_results_engine ON benchmark_results(engine, scenario);
    """,
    # How many distributions an env has, as last seen by a package operation or listing
    # (NULL: not looked at yet). Listings show it without asking the env (a docker exec).
    7: """
    ALTER TABLE environments ADD COLUMN package_count INTEGER;
    """,
}
