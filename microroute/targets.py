"""TARGET, what the `microroute` commands take: the `App` it names.

    shop:app        the attribute `app` of the module `shop`, as gunicorn takes it
    shop            the module's `app`
    app, ./app/     a route folder, served as `App("app")`
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from .app import App


def load_target(target: str) -> App:
    """The `App` a TARGET names: `load_target("shop:app")`, `load_target("shop/app")`."""
    if is_route_folder(target):
        return App(target)
    if os.path.isfile(target):  # `shop.py`, where `shop:app` was meant
        dotted = Path(target).with_suffix("").as_posix().replace("/", ".")
        raise ValueError(f"{target} is a file: name its module and app ({dotted}:app)")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app")
    if not isinstance(app, App):
        raise TypeError(f"{target} is a {type(app).__name__}, not a microroute App")
    return app


def is_route_folder(target: str) -> bool:
    """Whether TARGET is a folder to serve rather than a module to import:
    `demo_app` is a package (a module to import), `demo_app/app` a folder."""
    folder = Path(target)
    return folder.is_dir() and (os.sep in target or not (folder / "__init__.py").is_file())
