"""`microroute.rules`: the route trees Next.js refuses, refused by `App(...)` (SPEC §3).

Every test writes a real tree to disk and loads it, so a rule is tested the way
a user meets it: `App(path)` raises `RouteError`, and the message names the
rule and the files, in sorted order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import write_tree
from microroute import App, RouteError

Tree = Callable[[dict[str, str]], Path]

ROUTE = "def GET():\n    return None\n"
PAGE = "def Page():\n    return '<h1>Hello</h1>'\n"


def routable(*paths: str) -> dict[str, str]:
    """`routable("blog/[id]/page.py", "api/route.py")` -> each file with a minimal handler."""
    return {path: PAGE if path.endswith("page.py") else ROUTE for path in paths}


def refusal(app_dir: Path) -> str:
    """The message `App(app_dir)` refuses the tree with."""
    with pytest.raises(RouteError) as caught:
        App(app_dir)
    return str(caught.value)


def patterns(app_dir: Path) -> list[str]:
    return [route.pattern for route in App(app_dir).routes]


# -- Two files at one URL ----------------------------------------------------


def test_a_page_and_a_route_in_one_folder_conflict(tree: Tree) -> None:
    app_dir = tree(routable("x/page.py", "x/route.py"))
    assert refusal(app_dir) == "Conflicting route and page at /x: app/x/page.py, app/x/route.py"


def test_a_page_and_a_route_in_the_root_folder_conflict(tree: Tree) -> None:
    app_dir = tree(routable("page.py", "route.py"))
    assert refusal(app_dir) == "Conflicting route and page at /: app/page.py, app/route.py"


def test_a_page_and_a_route_at_one_url_through_groups_conflict(tree: Tree) -> None:
    app_dir = tree(routable("(shop)/x/route.py", "(marketing)/x/page.py"))
    assert refusal(app_dir) == (
        "Conflicting route and page at /x: app/(marketing)/x/page.py, app/(shop)/x/route.py"
    )


def test_a_page_in_a_group_conflicts_with_a_route_outside_it(tree: Tree) -> None:
    app_dir = tree(routable("x/route.py", "(site)/x/page.py"))
    assert refusal(app_dir) == (
        "Conflicting route and page at /x: app/(site)/x/page.py, app/x/route.py"
    )


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (
            ("(a)/x/route.py", "(b)/x/route.py"),
            "Conflicting routes at /x: app/(a)/x/route.py, app/(b)/x/route.py",
        ),
        (
            ("(b)/x/page.py", "(a)/x/page.py"),
            "Conflicting pages at /x: app/(a)/x/page.py, app/(b)/x/page.py",
        ),
        (
            ("(a)/page.py", "page.py"),
            "Conflicting pages at /: app/(a)/page.py, app/page.py",
        ),
        (
            ("blog/[id]/route.py", "(api)/blog/[id]/route.py"),
            "Conflicting routes at /blog/[id]: app/(api)/blog/[id]/route.py, "
            "app/blog/[id]/route.py",
        ),
        (
            ("(a)/(b)/x/page.py", "(c)/x/page.py"),
            "Conflicting pages at /x: app/(a)/(b)/x/page.py, app/(c)/x/page.py",
        ),
    ],
)
def test_two_routes_or_two_pages_at_one_url_conflict(
    tree: Tree, paths: tuple[str, ...], message: str
) -> None:
    assert refusal(tree(routable(*paths))) == message


# -- Sibling dynamic folders -------------------------------------------------


def test_sibling_parameters_with_the_same_rest_are_ambiguous(tree: Tree) -> None:
    app_dir = tree(routable("blog/[slug]/page.py", "blog/[id]/page.py"))
    assert refusal(app_dir) == (
        'Ambiguous route pattern "/blog/[*]" matches app/blog/[id]/page.py, app/blog/[slug]/page.py'
    )


@pytest.mark.parametrize(
    ("paths", "shape"),
    [
        (("blog/[slug]/route.py", "blog/[id]/page.py"), "/blog/[*]"),
        (("[a]/edit/page.py", "[b]/edit/page.py"), "/[*]/edit"),
        (("(x)/blog/[id]/page.py", "blog/[slug]/page.py"), "/blog/[*]"),
        (("docs/[...a]/page.py", "docs/[...b]/page.py"), "/docs/[...*]"),
        (("docs/[[...a]]/page.py", "docs/[[...b]]/page.py"), "/docs/[[...*]]"),
    ],
)
def test_routes_differing_only_in_parameter_names_are_ambiguous(
    tree: Tree, paths: tuple[str, ...], shape: str
) -> None:
    message = refusal(tree(routable(*paths)))
    assert message.startswith(f'Ambiguous route pattern "{shape}"')
    for path in paths:
        assert f"app/{path}" in message


def test_sibling_parameters_with_different_rests_must_share_a_name(tree: Tree) -> None:
    app_dir = tree(routable("blog/[id]/a/page.py", "blog/[slug]/b/page.py"))
    assert refusal(app_dir) == (
        "You cannot use different slug names for the same dynamic path ('id' !== 'slug'). "
        "(app/blog/[id]/a/page.py, app/blog/[slug]/b/page.py)"
    )


def test_different_slug_names_are_reported_in_sorted_order(tree: Tree) -> None:
    # The walk meets `[slug]` first (`(a)` sorts before `x`), but the message sorts.
    app_dir = tree(routable("(a)/x/[slug]/p/page.py", "x/[id]/q/route.py"))
    assert refusal(app_dir) == (
        "You cannot use different slug names for the same dynamic path ('id' !== 'slug'). "
        "(app/(a)/x/[slug]/p/page.py, app/x/[id]/q/route.py)"
    )


def test_different_slug_names_through_a_group_conflict(tree: Tree) -> None:
    app_dir = tree(routable("(one)/[id]/a/page.py", "(two)/[slug]/b/page.py"))
    assert refusal(app_dir) == (
        "You cannot use different slug names for the same dynamic path ('id' !== 'slug'). "
        "(app/(one)/[id]/a/page.py, app/(two)/[slug]/b/page.py)"
    )


# -- Catch-alls --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("docs/[...slug]/edit/page.py", "/docs/[...slug]/edit"),
        ("docs/[[...slug]]/edit/page.py", "/docs/[[...slug]]/edit"),
        ("docs/[...slug]/[id]/route.py", "/docs/[...slug]/[id]"),
        ("[...all]/x/route.py", "/[...all]/x"),
        ("docs/[...slug]/(group)/edit/page.py", "/docs/[...slug]/edit"),
    ],
)
def test_a_catch_all_must_be_the_last_segment(tree: Tree, path: str, route: str) -> None:
    assert refusal(tree(routable(path))) == (
        f'Catch-all must be the last part of the URL in route "{route}". (app/{path})'
    )


def test_a_catch_all_route_is_refused_even_beside_a_valid_one(tree: Tree) -> None:
    app_dir = tree(routable("docs/[...slug]/page.py", "docs/[...slug]/edit/page.py"))
    assert refusal(app_dir) == (
        'Catch-all must be the last part of the URL in route "/docs/[...slug]/edit". '
        "(app/docs/[...slug]/edit/page.py)"
    )


def test_non_routed_folders_below_a_catch_all_are_fine(tree: Tree) -> None:
    app_dir = tree({
        **routable("docs/[...slug]/page.py", "shop/[[...slug]]/page.py"),
        "docs/[...slug]/components/toc.py": "TITLE = 'Contents'\n",
        "docs/[...slug]/_drafts/page.py": PAGE,
        "docs/[...slug]/_drafts/[id]/route.py": ROUTE,
        "shop/[[...slug]]/_old/edit/route.py": ROUTE,
        "shop/[[...slug]]/data/prices.json": "{}\n",
    })
    assert patterns(app_dir) == ["/docs/[...slug]", "/shop/[[...slug]]"]


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (
            ("docs/[...slug]/page.py", "docs/[[...slug]]/page.py"),
            'You cannot use both a required and optional catch-all route at the same level '
            '("[...slug]" and "[[...slug]]"). '
            "(app/docs/[...slug]/page.py, app/docs/[[...slug]]/page.py)",
        ),
        (
            ("[[...rest]]/page.py", "[...path]/route.py"),
            'You cannot use both a required and optional catch-all route at the same level '
            '("[...path]" and "[[...rest]]"). '
            "(app/[...path]/route.py, app/[[...rest]]/page.py)",
        ),
    ],
)
def test_a_required_and_an_optional_catch_all_at_one_level_conflict(
    tree: Tree, paths: tuple[str, ...], message: str
) -> None:
    assert refusal(tree(routable(*paths))) == message


@pytest.mark.parametrize("beside", ["shop/page.py", "shop/route.py", "(store)/shop/page.py"])
def test_a_route_beside_an_optional_catch_all_has_the_same_specificity(
    tree: Tree, beside: str
) -> None:
    app_dir = tree(routable(beside, "shop/[[...slug]]/page.py"))
    files = ", ".join(sorted([f"app/{beside}", "app/shop/[[...slug]]/page.py"]))
    assert refusal(app_dir) == (
        "You cannot define a route with the same specificity as an optional catch-all route "
        f'("/shop" and "/shop/[[...slug]]"). ({files})'
    )


def test_a_root_page_beside_a_root_optional_catch_all_has_the_same_specificity(
    tree: Tree,
) -> None:
    app_dir = tree(routable("page.py", "[[...slug]]/page.py"))
    assert refusal(app_dir) == (
        "You cannot define a route with the same specificity as an optional catch-all route "
        '("/" and "/[[...slug]]"). (app/[[...slug]]/page.py, app/page.py)'
    )


# -- Malformed segments and parameter names ----------------------------------


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("[]", "Segment names may not be empty ('[]')."),
        ("[...]", "Segment names may not be empty ('[...]')."),
        ("[[id]]", 'Optional route parameters are not yet supported ("[[id]]").'),
        ("[[[id]]]", "Segment names may not start or end with extra brackets ('[id]')."),
        ("[..id]", "Segment names may not start with erroneous periods ('..id')."),
        ("[…id]", "Detected a three-dot character ('…') at ('…id'). Did you mean ('...')?"),
        ("()", "Group names may not be empty ('()')."),
        ("@slot", "Parallel routes ('@slot') are not supported by microroute."),
        ("(.)photo", "Intercepting routes ('(.)photo') are not supported by microroute."),
    ],
)
@pytest.mark.parametrize("where", ["{}/route.py", "shop/{}/page.py", "{}/deep/route.py"])
def test_a_malformed_segment_is_refused_naming_the_file(
    tree: Tree, folder: str, reason: str, where: str
) -> None:
    path = where.format(folder)
    assert refusal(tree(routable("about/page.py", path))) == f"{reason} (app/{path})"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("[id]/items/[id]/route.py", "id"),
        ("shop/[slug]/[...slug]/page.py", "slug"),
        ("[lang]/(group)/[[...lang]]/page.py", "lang"),
    ],
)
def test_a_parameter_name_used_twice_in_one_path_is_refused(
    tree: Tree, path: str, name: str
) -> None:
    assert refusal(tree(routable(path))) == (
        f'You cannot have the same slug name "{name}" repeat within a single dynamic path. '
        f"(app/{path})"
    )


@pytest.mark.parametrize(
    ("path", "first", "second"),
    [
        ("[helloworld]/[hello-world]/route.py", "helloworld", "hello-world"),
        ("[user.id]/posts/[userid]/page.py", "user.id", "userid"),
        ("[a-b]/[...a b]/page.py", "a-b", "a b"),
    ],
)
def test_parameter_names_differing_only_by_symbols_are_refused(
    tree: Tree, path: str, first: str, second: str
) -> None:
    assert refusal(tree(routable(path))) == (
        f'You cannot have the slug names "{first}" and "{second}" differ only by non-word '
        f"symbols within a single dynamic path. (app/{path})"
    )


def test_the_same_parameter_name_on_separate_paths_is_fine(tree: Tree) -> None:
    app_dir = tree(routable("users/[id]/page.py", "posts/[id]/page.py", "users/[id]/x/page.py"))
    assert patterns(app_dir) == ["/posts/[id]", "/users/[id]", "/users/[id]/x"]


# -- Private subtrees are ignored before any check ---------------------------


@pytest.mark.parametrize(
    "private",
    [
        {"_old/[id]/route.py": ROUTE},  # would be ambiguous with `[slug]`
        {"_old/[id]/x/route.py": ROUTE},  # would need the name `slug`
        {"_old/route.py": "raise RuntimeError('never imported')\n"},
        {"_old/[slug]/page.py": PAGE, "_old/[slug]/route.py": ROUTE},  # page + route
        {"_old/[[...slug]]/edit/route.py": ROUTE},  # catch-all not last
        {"_old/[]/route.py": ROUTE},  # malformed
        {"_old/about/route.py": "def get():\n    pass\n"},  # no handler
        {"(group)/_drafts/[id]/page.py": PAGE},
        {"blog/_drafts/[id]/page.py": "def Page(a, b, c):\n    pass\n"},
    ],
)
def test_a_private_subtree_is_ignored_before_any_check(
    tree: Tree, private: dict[str, str]
) -> None:
    app_dir = tree({**routable("[slug]/route.py", "blog/page.py"), **private})
    assert patterns(app_dir) == ["/blog", "/[slug]"]


def test_a_folder_with_only_helper_files_is_not_routed(tree: Tree) -> None:
    app_dir = tree({
        **routable("about/page.py"),
        "lib/helpers.py": "raise RuntimeError('helpers are not route files')\n",
        "data/products.json": "[]\n",
        "[id]/notes.txt": "not a route\n",
    })
    assert patterns(app_dir) == ["/about"]


# -- Trees that Next.js accepts load ------------------------------------------


@pytest.mark.parametrize(
    "paths",
    [
        ("blog/[id]/page.py", "blog/[id]/edit/page.py", "blog/page.py"),
        ("shop/[id]/page.py", "shop/[...slug]/page.py"),
        ("shop/page.py", "shop/[...slug]/page.py"),
        ("shop/[id]/page.py", "shop/[[...slug]]/page.py"),
        ("x/[c]/deep/route.py", "[a]/b/route.py"),
        ("(a)/x/page.py", "(b)/y/page.py"),
        ("docs/[...slug]/(group)/page.py",),
        ("%5Fnext/route.py", "next/route.py"),
    ],
)
def test_trees_next_js_accepts_load(tree: Tree, paths: tuple[str, ...]) -> None:
    assert len(App(tree(routable(*paths))).routes) == len(paths)


# -- Determinism ---------------------------------------------------------------

BROKEN = (
    "z/[slug]/b/page.py",
    "z/[id]/a/page.py",
    "(b)/y/route.py",
    "(a)/y/route.py",
    "docs/[...slug]/edit/page.py",
)


def test_the_same_broken_tree_gives_the_same_message_every_time(tmp_path: Path) -> None:
    app_dir = write_tree(tmp_path, routable(*BROKEN))
    messages = {refusal(app_dir) for _ in range(5)}
    assert messages == {
        'Catch-all must be the last part of the URL in route "/docs/[...slug]/edit". '
        "(app/docs/[...slug]/edit/page.py)"
    }


def test_the_message_does_not_depend_on_the_order_files_were_written(tmp_path: Path) -> None:
    without_catch_all = BROKEN[:-1]
    forwards = write_tree(tmp_path / "forwards", routable(*without_catch_all))
    backwards = write_tree(tmp_path / "backwards", routable(*reversed(without_catch_all)))
    assert refusal(forwards) == refusal(backwards) == (
        "Conflicting routes at /y: app/(a)/y/route.py, app/(b)/y/route.py"
    )
