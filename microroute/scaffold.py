'''`microroute new NAME`: a project of your own, ready to run and to test.

    $ microroute new shop
    shop/
      __init__.py              app = App(Path(__file__).parent / "app")
      app/layout.py            the HTML around every page
      app/page.py              GET /
      app/api/hello/route.py   GET /api/hello?name=Ada, a 400 for a bad name
      public/styles.css        GET /styles.css
      tests/test_app.py        the app through werkzeug's test Client
      README.md                the next commands

The folder is the package gunicorn imports (`gunicorn shop:app`, run from the
folder that holds `shop/`). NAME must be a name Python can import and that
hides no other module: not `json`, not `microroute`.
'''

from __future__ import annotations

import importlib.util
import keyword
import sys
from pathlib import Path

FILES = {
    "__init__.py": '''\
"""{name}: a microroute project. `gunicorn {name}:app` serves it."""

from pathlib import Path

from microroute import App

app = App(Path(__file__).parent / "app")
''',
    "app/layout.py": '''\
"""The HTML around every page: `children` is the page\'s own HTML."""


def Layout(children: str) -> str:
    return (
        "<!doctype html><html lang=\'en\'><head><meta charset=\'utf-8\'>"
        "<title>{name}</title><link rel=\'stylesheet\' href=\'/styles.css\'></head>"
        f"<body>{{children}}</body></html>"
    )
''',
    "app/page.py": '''\
"""GET /: the home page."""


def Page() -> str:
    return "<h1>{name}</h1><p>Try <a href=\'/api/hello?name=Ada\'>/api/hello?name=Ada</a>.</p>"
''',
    "app/api/hello/route.py": '''\
"""GET /api/hello?name=Ada -> {{"message": "Hello, Ada!"}}

Input from a client is checked before it is used: a bad name is the
client\'s mistake, a 400 that says what is wrong, never a 500.
"""

from microroute import HTTPError, Request, Response


def GET(request: Request) -> Response:
    name = request.query.get("name", "world")
    if not 1 <= len(name) <= 50 or not name.isprintable():
        raise HTTPError(400, "name must be 1 to 50 printable characters")
    return Response.json({{"message": f"Hello, {{name}}!"}})
''',
    "public/styles.css": """\
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }}
""",
    "tests/__init__.py": "",
    "tests/test_app.py": '''\
"""The app through werkzeug\'s test Client: every route, no server needed."""

from werkzeug.test import Client

from {name} import app

client = Client(app)


def test_the_home_page():
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert "<h1>{name}</h1>" in response.get_data(as_text=True)


def test_hello():
    assert client.get("/api/hello").get_json() == {{"message": "Hello, world!"}}
    assert client.get("/api/hello?name=Ada").get_json() == {{"message": "Hello, Ada!"}}


def test_a_bad_name_is_a_400():
    response = client.get("/api/hello?name=" + "x" * 51)
    assert response.status_code == 400
    assert response.get_json() == {{"error": "name must be 1 to 50 printable characters"}}


def test_an_unknown_path_is_a_404():
    assert client.get("/nowhere").status_code == 404
''',
    "README.md": """\
# {name}

A microroute project: folders under
`app/` are URLs, a `route.py` is an API, a `page.py` is a page, and files in
`public/` are served as they are.

From the folder that holds `{name}/`:

```sh
gunicorn {name}:app             # serve it on http://127.0.0.1:8000
microroute dev {name}:app       # serve it on http://127.0.0.1:3000, reloading as you edit
microroute routes {name}:app    # what each file of app/ becomes
pytest {name}                   # its tests
```
""",
}

# Installed packages a project is usually run beside: a project by one of
# these names would hide it from its own code (and from gunicorn).
OURS = frozenset({"microroute", "werkzeug", "markupsafe", "gunicorn", "pytest"})


def create_project(name: str, where: Path | None = None) -> int:
    """Write the project NAME in the new folder `where / NAME`; the exit status.

    >>> create_project("shop")
    Created shop/. From here: ...
    0
    """
    folder = (where or Path.cwd()) / name
    if name.isidentifier() and folder.exists():
        problem: str | None = f"{folder} already exists: pick another name, or another place"
    else:
        problem = name_problem(name)
    if problem is not None:
        print(f"microroute new: {problem}", file=sys.stderr)
        return 1
    for path, template in FILES.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.format(name=name))
    print(
        f"Created {name}/. From here:\n"
        f"  gunicorn {name}:app          serve it\n"
        f"  microroute dev {name}:app    serve it, reloading as you edit\n"
        f"  pytest {name}                test it"
    )
    return 0


def name_problem(name: str) -> str | None:
    """Why NAME cannot name a project, or None if it can.

    >>> name_problem("my-shop")
    "'my-shop' is not a Python name: use letters, digits and _ (my_shop)"
    """
    if not name.isidentifier():
        hint = "".join(c if c.isalnum() else "_" for c in name)
        return f"{name!r} is not a Python name: use letters, digits and _ ({hint})"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword: pick another name"
    if name in sys.stdlib_module_names:
        return f"{name!r} would hide the standard library's {name} module: pick another name"
    if name.lower() in OURS:
        return f"{name!r} would hide the {name.lower()} package it runs on: pick another name"
    found = importlib.util.find_spec(name)
    if found is not None:
        where = found.origin or ", ".join(found.submodule_search_locations or [])
        return f"{name!r} would hide the module already installed at {where}: pick another name"
    return None
