"""Instructions per request, counted by valgrind: steady where timings are not.

    python benchmarks/bench_instructions.py [--number 1000] [--only microroute] [ENDPOINT ...]

Method. For each framework and endpoint, the same script runs twice under
`valgrind --tool=callgrind` (with `PYTHONHASHSEED=0`): once serving
`--number` requests the way `bench_inprocess.py` times them (a fresh
environ each, the body consumed and closed), once serving none. The
difference, divided by `--number`, is what one request costs, start-up and
harness set aside. The same code still counts up to a few hundred apart from
one build to the next (memory layout, hash order): read a change of less
than that as none. Needs valgrind (`apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import peers  # noqa: E402

# What runs under valgrind: `number` requests of one endpoint, as bench_inprocess times them.
_SERVE = """
import sys
sys.path[:0] = [{here!r}, {root!r}]
import bench_inprocess, peers
app = peers.APPS[{name!r}]
template, body = bench_inprocess.environ_for({endpoint!r})
bench_inprocess.call(app, template, body)  # first-call work, in both runs alike
if {number}:
    bench_inprocess.time_batch(app, template, body, {number})
"""


def count(name: str, endpoint: str, number: int) -> int:
    """Instructions the whole script runs, serving `number` requests."""
    script = _SERVE.format(here=str(HERE), root=str(HERE.parent), name=name,
                           endpoint=endpoint, number=number)
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "callgrind.out")
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"{name}, {endpoint}: valgrind failed\n{done.stderr[-2000:]}")
        match = re.search(r"^summary:\s+(\d+)", Path(out).read_text(), re.MULTILINE)
        assert match is not None, "no summary line in callgrind's output"
        return int(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoints", nargs="*", help=f"default: all of {list(peers.ENDPOINTS)}")
    parser.add_argument("--number", type=int, default=1000)
    parser.add_argument("--only", action="append", help="microroute, raw, falcon...")
    arguments = parser.parse_args(argv)
    names = arguments.only or ["raw", "microroute"]
    print("| endpoint | " + " | ".join(names) + " |\n|---" * 1 + "|---" * len(names) + "|")
    for endpoint in arguments.endpoints or list(peers.ENDPOINTS):
        # The two runs of each framework side by side: valgrind is slow, and
        # the counts do not depend on what else the machine is doing.
        with ThreadPoolExecutor(2) as pool:
            runs = {(name, number): pool.submit(count, name, endpoint, number)
                    for name in names for number in (arguments.number, 0)}
            per_request = {
                name: (runs[name, arguments.number].result() - runs[name, 0].result())
                / arguments.number
                for name in names
            }
        cells = []
        for name in names:
            ratio = "" if "raw" not in per_request or name == "raw" else (
                f" (×{per_request[name] / per_request['raw']:.2f})")
            cells.append(f"{per_request[name]:,.0f}{ratio}")
        print(f"| {endpoint} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
