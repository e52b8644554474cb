"""How long the `advzoo` command takes to answer when it needs no model: `advzoo --help`,
`advzoo list` and an argument error, against `python -c "import advzoo"` (which imports
TensorFlow) and against a bare `python -c pass` (the interpreter's own start).

Each command runs in a fresh process, in alternating rounds; the table gives the median wall
time over rounds and its ratio to the `import advzoo` time, which shows how much of TensorFlow's
import the command avoids. The entry point is run as `python -m advzoo_cli`, which is what the
installed `advzoo` script calls.

    python benchmarks/cli_startup.py [--rounds 7]
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

from advzoo.readme import write_result

RESULT = pathlib.Path(__file__).parent / "results" / "cli_startup.json"
COMMANDS = {
    "python -c pass (interpreter start)": [sys.executable, "-c", "pass"],
    "advzoo --help": [sys.executable, "-m", "advzoo_cli", "--help"],
    "advzoo list": [sys.executable, "-m", "advzoo_cli", "list"],
    "advzoo train gan --steps 0 (argument error)": [sys.executable, "-m", "advzoo_cli", "train",
                                                    "gan", "--steps", "0", "--out", "x"],
    "python -c 'import advzoo' (TensorFlow)": [sys.executable, "-c", "import advzoo"],
}


def wall_seconds(command) -> float:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, env=env, timeout=600)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    times = {name: [] for name in COMMANDS}
    for _ in range(args.rounds):
        for name, command in COMMANDS.items():
            times[name].append(wall_seconds(command))
    load = os.getloadavg()[0]
    reference = statistics.median(times["python -c 'import advzoo' (TensorFlow)"])
    rows = [{"command": name, "median wall s": round(statistics.median(t), 3),
             "min wall s": round(min(t), 3),
             "ratio to import advzoo": round(statistics.median(t) / reference, 3)}
            for name, t in times.items()]
    for row in rows:
        print(row)
    result = {
        "title": "Start-up of the advzoo command without a model (no TensorFlow import)",
        "command": f"python benchmarks/cli_startup.py --rounds {args.rounds}",
        "columns": ["command", "median wall s", "min wall s", "ratio to import advzoo"],
        "rows": rows,
        "note": (f"{args.rounds} alternating rounds, each command in a fresh process; load average "
                 f"{load:.1f} at the end (the machine was not idle, so absolute times are upper "
                 "bounds; the ratios are the stable part). `--help`, `list` and argument errors "
                 "are answered by advzoo_cli from advzoo/catalog.json without importing "
                 "TensorFlow; commands that need a model import it after parsing."),
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
