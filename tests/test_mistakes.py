"""Files that look like a mistake (microroute/mistakes.py; README, "The command
line"): each named with the file it likely meant, by `check` and `routes` as
warnings, and by `check --strict` as a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_cli, write_tree
from microroute.mistakes import likely_mistakes, meant_name

PAGE = "def Page():\n    return '<h1>hi</h1>'\n"


@pytest.mark.parametrize(
    ("filename", "meant"),
    [
        ("routes.py", "route.py"),
        ("Route.py", "route.py"),
        ("ROUTE.py", "route.py"),
        ("Page.py", "page.py"),
        ("pages.py", "page.py"),
        ("not-found.py", "not_found.py"),
        ("notfound.py", "not_found.py"),
        ("NotFound.py", "not_found.py"),
        ("layout.html", "layout.py"),
        ("Layout.py", "layout.py"),
        ("middleware.py", "proxy.py"),
        # Next.js's own files
        ("route.js", "route.py"),
        ("route.ts", "route.py"),
        ("page.tsx", "page.py"),
        ("page.jsx", "page.py"),
        ("layout.tsx", "layout.py"),
        ("not-found.tsx", "not_found.py"),
        ("middleware.ts", "proxy.py"),
        ("error.tsx", "error.py"),
        ("Error.py", "error.py"),
        ("proxy.ts", "proxy.py"),
    ],
)
def test_a_likely_mistake_is_named_with_what_it_meant(filename: str, meant: str) -> None:
    assert meant_name(filename) == meant


@pytest.mark.parametrize(
    "filename",
    ["route.py", "page.py", "layout.py", "not_found.py", "error.py", "proxy.py", "helpers.py",
     "errors.py",
     "router.py", "pager.py", "page.css", "route.pyc", "README.md"],
)
def test_a_right_or_unrelated_name_is_no_mistake(filename: str) -> None:
    assert meant_name(filename) is None


def test_mistakes_are_found_in_routed_folders_only_and_named_as_routes_shows_them(
    tmp_path: Path,
) -> None:
    app_dir = write_tree(tmp_path, {
        "page.py": PAGE,
        "api/products/routes.py": "",
        "(shop)/cart/Page.py": PAGE,
        "blog/[slug]/page.tsx": "",
        "%5Fodd/not-found.py": "",
        "_lib/routes.py": "",          # private: a helper may be called anything
        ".cache/page.ts": "",          # hidden
        "__pycache__/routes.py": "",
    })
    assert likely_mistakes(app_dir) == [
        "app/%5Fodd/not-found.py is not routed: did you mean not_found.py?",
        "app/(shop)/cart/Page.py is not routed: did you mean page.py?",
        "app/api/products/routes.py is not routed: did you mean route.py?",
        "app/blog/[slug]/page.tsx is not routed: did you mean page.py? (route files are Python)",
    ]


def test_a_tree_without_mistakes_has_none(tmp_path: Path) -> None:
    assert likely_mistakes(write_tree(tmp_path, {"page.py": PAGE, "_lib/pages.py": ""})) == []


# -- through the command line -------------------------------------------------------

MISNAMED = {"page.py": PAGE, "routes.py": "", "about/Page.py": PAGE, "api/route.js": ""}
WARNINGS = [
    "warning: app/about/Page.py is not routed: did you mean page.py?",
    "warning: app/api/route.js is not routed: did you mean route.py? (route files are Python)",
    "warning: app/routes.py is not routed: did you mean route.py?",
]


@pytest.mark.parametrize("command", ["check", "routes"])
def test_check_and_routes_warn_and_exit_0(tmp_path: Path, command: str) -> None:
    write_tree(tmp_path, MISNAMED)
    result = run_cli(command, "app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == WARNINGS
    assert "app/page.py" in result.stdout or result.stdout.startswith("OK: 1 routes")


def test_check_strict_exits_1_on_warnings(tmp_path: Path) -> None:
    write_tree(tmp_path, MISNAMED)
    result = run_cli("check", "--strict", "app", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == WARNINGS


def test_check_strict_passes_a_clean_tree(tmp_path: Path) -> None:
    write_tree(tmp_path, {"page.py": PAGE})
    result = run_cli("check", "--strict", "app", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("OK: 1 routes in ")
