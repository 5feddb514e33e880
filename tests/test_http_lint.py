"""HTTP lint: REDbot, an HTTP linter no one here wrote, checks the demo's
pages, API and public files as a real gunicorn serves them on 127.0.0.1.

REDbot sends each URL a plain GET, then its own follow-ups (a conditional
request with the ETag or Last-Modified it was given, a range, a gzip
request, ...) and rates what it finds GOOD, INFO, WARN or BAD. Any BAD
fails the test; the WARNs it gives today are listed in the README
("What REDbot says"), each with what was decided about it, and any other
WARN fails here so that the list stays true.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import ROOT, Server

pytest.importorskip("redbot", reason="REDbot lints the answers: pip install redbot")

PAGES_AND_API = ["/", "/about", "/products", "/api/products", "/api/products/1", "/api/hello"]

# The WARNs the README lists, each with its decision there.
KNOWN_WARNINGS = {
    # No Cache-Control on pages and API answers: a cache may choose a lifetime.
    "FRESHNESS_HEURISTIC",
    # `public` in public files' Cache-Control (Next.js's header, kept).
    "STORE_PUBLIC_UNNECESSARY",
    # A file shorter than the range REDbot asks for: the 206 is the whole file.
    "RANGE_CL_FULL",
}


def findings(url: str) -> list[dict[str, str]]:
    """REDbot's notes on one URL: `{"note_id", "level", "summary", ...}`."""
    run = subprocess.run(
        [sys.executable, "-m", "redbot.cli", "-o", "har", url],
        capture_output=True, text=True, timeout=120, check=True,
    )
    entries = json.loads(run.stdout)["log"]["entries"]
    assert entries, f"REDbot got no answer from {url}: {run.stderr}"
    return [note for entry in entries for note in entry["_red_messages"]]


@pytest.fixture
def demo(tmp_path: Path, serve: Callable[..., Server]) -> tuple[Server, list[str]]:
    """The demo under gunicorn, its public files beside one of a good size
    (REDbot's range check needs a file longer than the range it asks for)."""
    from demo_app import app as demo_app

    public = tmp_path / "public"
    if (ROOT / "demo_app" / "public").is_dir():
        shutil.copytree(ROOT / "demo_app" / "public", public)
    public.mkdir(exist_ok=True)
    (public / "lint.css").write_text("".join(f".c{n} {{ color: #{n:03x}; }}\n" for n in range(250)))
    package = tmp_path / "linted"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from microroute import App\n"
        f"app = App({str(demo_app.app_dir)!r}, public_dir={str(public)!r})\n"
    )
    server = serve("linted:app", cwd=tmp_path,
                   env={"MICROROUTE_DEMO_DB": str(tmp_path / "demo.sqlite3")})
    files = [route.pattern for route in demo_app.public] + ["/lint.css"]
    return server, files


@pytest.mark.slow
def test_redbot_finds_nothing_bad_in_the_demo(demo: tuple[Server, list[str]]) -> None:
    server, files = demo
    problems = []
    for path in [*PAGES_AND_API, *files]:
        for note in findings(server.url + path):
            if note["level"] == "BAD" or (
                note["level"] == "WARN" and note["note_id"] not in KNOWN_WARNINGS
            ):
                problems.append(f"{path}: {note['level']} {note['note_id']}: {note['summary']}")
    assert not problems, "\n".join(problems)
