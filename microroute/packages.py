"""Importing route files: the private packages their modules go in.

Each route tree gets a package of its own, in which every folder of the
tree is a package and every route file a module:

    app/api/products/route.py   ->  _microroute_tree_1.api.products.%route
    app/v1.0/route.py           ->  _microroute_tree_1.v1%2E0.%route

So importing `demo_app/app/api/x/route.py` can never replace an attribute
of the user's own `demo_app.app`, two apps never share a module, and a route
file still reaches the helpers beside it with relative imports
(`from .._lib.db import connect`).

The loader imports each route file by path, at start-up, with
`import_file`. The packages are made only when an import asks for one: a
relative import in a route file asks the import system for
`_microroute_tree_1.api._lib`, and the import system asks the finder below,
which knows where each tree is. The packages are bare: a folder's
`__path__` is the folder, and no `__init__.py` of the tree is ever run, since
the tree is not a package of the user's.
"""

from __future__ import annotations

import itertools
import os
import sys
import types
from collections.abc import Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec, SourceFileLoader
from urllib.parse import unquote

_trees: dict[str, str] = {}  # a tree's package -> its folder on disk
_numbers = itertools.count(1)


def new_tree(root: str) -> str:
    """A package, never used before, for the tree in the folder `root`."""
    package = f"_microroute_tree_{next(_numbers)}"
    _trees[package] = root
    if _FINDER not in sys.meta_path:
        # First, so that no other finder answers for a folder of the tree
        # (the standard one would run its __init__.py).
        sys.meta_path.insert(0, _FINDER)
    return package


def module_name(package: str, folders: Sequence[str], filename: str) -> str:
    """The module a file of the tree is imported as."""
    # A dot would split the name, so it is escaped as in a URL, and "%" first,
    # so that two folder names never share a module name. "%route" is a name
    # no escaped folder can have: a folder `route/` keeps a package of its own.
    # Speed: the folders are escaped all at once, joined by the one character
    # no folder name can hold, which then becomes the dot between packages:
    # App() over 1,000 route files runs 244 M instructions, 247 M escaping
    # each folder by itself.
    below = "/".join(folders).replace("%", "%25").replace(".", "%2E").replace("/", ".")
    module = "%" + filename.removesuffix(".py")
    return f"{package}.{below}.{module}" if below else f"{package}.{module}"


def import_file(name: str, path: str) -> types.ModuleType:
    """Run the Python file at `path` as the module `name` (from `module_name`).

    If the file raises, the module is not left in `sys.modules` and the
    error is raised as it came.
    """
    # Speed: the module as importlib.util's spec_from_file_location and
    # module_from_spec would make it, with the same attributes, less the work
    # a route file never needs (asking whether it is a package, working out
    # its bytecode's path twice more): a fifth of start-up over 1,000 route
    # files (benchmarks/README.md, "Scale").
    loader = SourceFileLoader(name, path)
    spec = ModuleSpec(name, loader, origin=path)
    spec.has_location = True
    module = types.ModuleType(name)
    module.__spec__, module.__loader__ = spec, loader
    module.__file__, module.__package__ = path, spec.parent
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def forget(package: str) -> None:
    """Drop a tree's modules and packages, as if it had never been loaded."""
    _trees.pop(package, None)
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


# Speed: packages made when an import asks for one, not one per folder up
# front: a tenth of start-up over 1,000 route files (benchmarks/README.md).
class _Finder(MetaPathFinder, Loader):
    """Finds, and makes, the package of a folder of a tree (see the top)."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> ModuleSpec | None:
        package, _, below = name.partition(".")
        root = _trees.get(package)
        if root is None:
            return None  # not ours: some other finder's
        folder = os.path.join(root, *map(unquote, below.split("."))) if below else root
        if not os.path.isdir(folder):
            return None  # a module beside the route files, found by the standard finder
        spec = ModuleSpec(name, self, is_package=True)
        spec.submodule_search_locations = [folder]
        return spec

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the import system's default: a plain module object

    def exec_module(self, module: types.ModuleType) -> None:
        pass  # a bare package: nothing to run


_FINDER = _Finder()
