"""`microroute.loader`'s walk through symlinks: a linked folder is walked like
a folder, a linked `route.py` read like a file, and a link the walk cannot
follow stops the start, naming it (README, "Decisions where the contract is
silent": symlinks).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import get_json, json_route, refusal, routable, write_tree
from microroute import App

Tree = Callable[[dict[str, str]], Path]


# -- Symlinks -------------------------------------------------------------------------------


def test_a_symlinked_folder_is_routed_like_a_folder(tree: Tree, tmp_path: Path) -> None:
    shared = write_tree(tmp_path / "shared", {
        "route.py": json_route("'docs'"),
        "_text.py": "TEXT = {'7': 'seven'}\n",
        "[id]/route.py": json_route("TEXT[params]", "from .._text import TEXT").replace(
            "def GET():", "def GET(request, params):\n    params = params['id']"),
    })
    app_dir = tree(routable("about/page.py"))
    (app_dir / "docs").symlink_to(shared, target_is_directory=True)  # out of the tree
    (app_dir / "guides").symlink_to(app_dir / "docs")  # a link to a link, inside it
    app = App(app_dir)
    assert [route.file for route in app.routes] == [
        "app/about/page.py", "app/docs/route.py", "app/docs/[id]/route.py",
        "app/guides/route.py", "app/guides/[id]/route.py",
    ]
    assert get_json(app, "/docs") == get_json(app, "/guides") == "docs"
    assert get_json(app, "/docs/7") == get_json(app, "/guides/7") == "seven"


def test_a_symlinked_route_file_is_read_like_a_file(tree: Tree, tmp_path: Path) -> None:
    source = tmp_path / "elsewhere.py"
    source.write_text(json_route("'linked'"))
    app_dir = tree(routable("about/page.py"))
    (app_dir / "api").mkdir()
    (app_dir / "api" / "route.py").symlink_to(source)
    assert get_json(App(app_dir), "/api") == "linked"


@pytest.mark.parametrize("target", [".", "..", "../..", "{app}", "{app}/blog"])
def test_a_symlink_back_up_the_tree_is_refused_naming_it(tree: Tree, target: str) -> None:
    app_dir = tree(routable("blog/x/page.py"))
    link_target = target.format(app=app_dir)
    (app_dir / "blog" / "x" / "loop").symlink_to(link_target, target_is_directory=True)
    assert refusal(app_dir) == (
        f"The symlink app/blog/x/loop -> {link_target} leads back to a folder above it: it "
        "would be walked round and round. Link to another folder, or copy it."
    )


def test_a_loop_through_two_links_is_refused_naming_the_link_that_closes_it(
    tree: Tree, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    app_dir = tree(routable("a/page.py"))
    (app_dir / "a" / "out").symlink_to(outside)
    (outside / "back").symlink_to(app_dir / "a")
    assert refusal(app_dir) == (
        f"The symlink app/a/out/back -> {app_dir / 'a'} leads back to a folder above it: it "
        "would be walked round and round. Link to another folder, or copy it."
    )


@pytest.mark.parametrize(
    "link", ["route.py", "blog/page.py", "blog/layout.py", "proxy.py", "docs", "blog/notes.txt"]
)
def test_a_symlink_to_nothing_is_refused_naming_it(tree: Tree, link: str) -> None:
    # It may have been a route file or a folder of them: a deploy that lost
    # its target should not start with those routes silently gone.
    app_dir = tree(routable("blog/x/page.py"))
    (app_dir / link).symlink_to("/no/such/file")
    assert refusal(app_dir) == (
        f"The symlink app/{link} -> /no/such/file leads nowhere: its target does not exist."
    )


@pytest.mark.parametrize(
    ("links", "refused"),
    [({"self": "self"}, ["self -> self"]), ({"a": "b", "b": "a"}, ["a -> b", "b -> a"])],
    ids=["to-itself", "to-each-other"],
)
def test_links_that_lead_only_to_each_other_are_refused_naming_them(
    tree: Tree, links: dict[str, str], refused: list[str]
) -> None:
    # Following them fails with "Too many levels of symbolic links" (ELOOP):
    # a problem of the tree, named, never an OSError out of App().
    app_dir = tree(routable("blog/page.py"))
    for name, target in links.items():
        (app_dir / "blog" / name).symlink_to(target)
    problems = [
        f"The symlink app/blog/{link} leads round in a loop of links: it has no target."
        for link in refused
    ]
    several = f"The route tree has {len(problems)} problems:\n\n" if len(problems) > 1 else ""
    assert refusal(app_dir) == several + "\n\n".join(problems)


@pytest.mark.parametrize("link", [".#route.py", "blog/.#page.py", "_old", "blog/_drafts"])
def test_a_hidden_or_private_symlink_to_nothing_is_left_alone(tree: Tree, link: str) -> None:
    # `.#route.py` is how Emacs marks a file it is editing: a link to nowhere.
    app_dir = tree(routable("blog/page.py"))
    (app_dir / link).symlink_to("/no/such/file")
    assert [route.file for route in App(app_dir).routes] == ["app/blog/page.py"]


def test_a_private_symlinked_folder_is_never_walked(tree: Tree, tmp_path: Path) -> None:
    broken = write_tree(tmp_path / "broken", {"route.py": "raise RuntimeError('not routed')\n"})
    app_dir = tree(routable("blog/page.py"))
    (app_dir / "_lib").symlink_to(broken)
    assert [route.file for route in App(app_dir).routes] == ["app/blog/page.py"]


def test_broken_symlinks_are_listed_with_the_other_problems(tree: Tree) -> None:
    app_dir = tree(routable("x/[]/route.py", "blog/page.py"))
    (app_dir / "blog" / "route.py").symlink_to("gone.py")
    (app_dir / "blog" / "self").symlink_to(".")
    assert refusal(app_dir) == (
        "The route tree has 3 problems:\n\n"
        "The symlink app/blog/route.py -> gone.py leads nowhere: its target does not exist.\n\n"
        "The symlink app/blog/self -> . leads back to a folder above it: it would be walked "
        "round and round. Link to another folder, or copy it.\n\n"
        'Parameter names cannot be empty in route "/x/[]". (app/x/[]/route.py)'
    )
