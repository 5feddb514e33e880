"""Files in a route tree that look like a mistake: a name the tree ignores
but that is one letter, one case or one language away from a name it reads.

    >>> likely_mistakes("shop/app")
    ['app/api/routes.py is not routed: did you mean route.py?',
     'app/about/page.tsx is not routed: did you mean page.py? (route files are Python)']

These are warnings, not `RouteError`s: a helper may rightly be called
`pages.py`, and Next.js files may sit in a tree during a move. So `check` and
`routes` print them and carry on; `check --strict` fails on them, for CI.
Private folders (`_lib/`), hidden ones and `__pycache__` are not looked in.
"""

from __future__ import annotations

import os

# A file's stem, lowercased with "-" as "_", -> the file it was likely meant to be.
MEANT = {
    "route": "route.py",
    "routes": "route.py",
    "page": "page.py",
    "pages": "page.py",
    "layout": "layout.py",
    "layouts": "layout.py",
    "not_found": "not_found.py",
    "notfound": "not_found.py",
    "error": "error.py",
    "proxy": "proxy.py",
    "middleware": "proxy.py",  # Next.js 16 renamed middleware to proxy
}
# Where a name is looked at: Python, Next.js's languages, and HTML templates.
EXTENSIONS = frozenset({".py", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".html"})
NEXT_JS = frozenset({".js", ".jsx", ".ts", ".tsx", ".mjs"})


def likely_mistakes(app_dir: str | os.PathLike[str]) -> list[str]:
    """One warning per misnamed file below `app_dir`, sorted by file, naming
    the file as `routes` shows it (`app/api/routes.py`) and the name it meant."""
    root = os.path.realpath(app_dir)
    shown_from = os.path.dirname(root)
    warnings = []
    for directory, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(("_", "."))]
        for name in files:
            meant = meant_name(name)
            if meant is not None:
                shown = os.path.relpath(os.path.join(directory, name), shown_from)
                warnings.append((shown.replace(os.sep, "/"), meant, name))
    return [
        f"{shown} is not routed: did you mean {meant}?"
        + (" (route files are Python)" if os.path.splitext(name)[1] in NEXT_JS else "")
        for shown, meant, name in sorted(warnings)
    ]


def meant_name(filename: str) -> str | None:
    """The file name `filename` was likely meant to be; None if it looks right
    or like nothing the tree reads.

    >>> meant_name("Page.py"), meant_name("not-found.tsx"), meant_name("page.py")
    ('page.py', 'not_found.py', None)
    """
    stem, extension = os.path.splitext(filename)
    meant = MEANT.get(stem.lower().replace("-", "_"))
    if meant is None or extension.lower() not in EXTENSIONS or filename == meant:
        return None
    return meant
