"""Benchmark of one `sourced ask` from the command line: a new process per question, warm database.

Each run is a fresh process (interpreter start, imports, settings, resources, the question, the
query log write, exit), as a script or a cron job would run it. The database is a fresh one on
the app's server, seeded by `bench.ask.bench_resources` and dropped after, so the demo's query
log does not fill with benchmark answers. One untimed run per question first warms the OS cache
and lets the router store its example vectors (app.route_example_vectors), as the first question
after a deployment would. The peers are `python -c "import agents"` (the interpreter's own start)
and the import of the libraries a question needs (psycopg, sqlglot, numpy, pydantic-settings,
PyYAML): the floor of any Python command that asks the warehouse.

Run: python -m bench.cli
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Figure, median, print_table

RUNS = 5
TARGET_S = 0.3
# A question the planner answers (no encoder needed), and one only the route examples decide
# (no metric, no document cue: the encoder is loaded to embed it).
DATA_QUESTION = "What was total revenue in 2018?"
EXAMPLES_QUESTION = "Who is our CEO?"
LIBRARIES = "import psycopg, psycopg_pool, sqlglot, numpy, pydantic_settings, yaml"


def sourced_command() -> list[str]:
    """The installed `sourced` script beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("sourced")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agents.commands.cli"]


def wall_times(command: list[str], env: dict[str, str], runs: int = RUNS) -> list[float]:
    """Seconds of wall time of each run of `command`; a failing run raises."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return samples


def run(runs: int = RUNS) -> list[Figure]:
    from bench.ask import bench_resources

    with bench_resources() as resources:
        url = resources.settings.database_url
        assert url is not None
        env = {**os.environ, "SOURCED_DATABASE_URL": url.get_secret_value()}
        env.pop("SOURCED_WAREHOUSE_URL", None)
        env.pop("SOURCED_LLM_MODEL", None)
        ask = [*sourced_command(), "ask"]
        peer = median(wall_times([sys.executable, "-c", "import agents"], env, runs))
        floor = median(wall_times([sys.executable, "-c", LIBRARIES], env, runs))
        timed = {}
        for question in (DATA_QUESTION, EXAMPLES_QUESTION):
            wall_times([*ask, question], env, 1)  # warm-up, stores the route example vectors
            timed[question] = median(wall_times([*ask, question], env, runs))
    data, examples = timed[DATA_QUESTION], timed[EXAMPLES_QUESTION]
    return [
        Figure("cli", f"sourced ask, planner question (s, median of {runs})", f"{data:.2f}",
               f"<= {TARGET_S:g}", f'python -c "import agents" {peer:.2f}', data <= TARGET_S),
        Figure("cli", f"its libraries' import alone (s, median of {runs})", f"{floor:.2f}", "",
               f"planner question {data:.2f}: {data - floor:.2f} s is Sourced's own"),
        Figure("cli", f"sourced ask, routed by examples (s, median of {runs})",
               f"{examples:.2f}", "", f"planner question {data:.2f} (encoder load included)"),
    ]


if __name__ == "__main__":
    print_table(run())
