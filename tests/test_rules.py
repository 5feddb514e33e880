"""`microroute.rules`: the route trees Next.js refuses, refused by `App(...)`
(README, "Mistakes it catches at start-up").

Every test writes a real tree to disk and loads it, so a rule is tested the way
a user meets it: `App(path)` raises `RouteError`, and the message names the
rule and the files, in sorted order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import MINIMAL_PAGE as PAGE
from helpers import MINIMAL_ROUTE as ROUTE
from helpers import refusal, routable, write_tree
from microroute import App

Tree = Callable[[dict[str, str]], Path]


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


AMBIGUOUS = "Ambiguous app routes detected:\n\n{}\n\n" + (
    "These routes cannot be distinguished from each other when matching URLs. Please ensure "
    "that dynamic segments have unique patterns or use different static segments."
)


def test_sibling_parameters_with_the_same_rest_are_ambiguous(tree: Tree) -> None:
    app_dir = tree(routable("blog/[slug]/page.py", "blog/[id]/page.py"))
    assert refusal(app_dir) == AMBIGUOUS.format(
        'Ambiguous route pattern "/blog/[*]" matches multiple routes:\n'
        "  - app/blog/[id]/page.py\n"
        "  - app/blog/[slug]/page.py"
    )


def test_every_ambiguous_pattern_is_listed_in_one_message(tree: Tree) -> None:
    app_dir = tree(routable("blog/[id]/route.py", "blog/[slug]/route.py",
                            "posts/[a]/route.py", "posts/[b]/route.py"))
    assert refusal(app_dir) == AMBIGUOUS.format(
        'Ambiguous route pattern "/blog/[*]" matches multiple routes:\n'
        "  - app/blog/[id]/route.py\n"
        "  - app/blog/[slug]/route.py\n\n"
        'Ambiguous route pattern "/posts/[*]" matches multiple routes:\n'
        "  - app/posts/[a]/route.py\n"
        "  - app/posts/[b]/route.py"
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
    assert message.startswith("Ambiguous app routes detected:")  # and nothing else
    assert f'Ambiguous route pattern "{shape}" matches multiple routes:' in message
    for path in paths:
        assert f"  - app/{path}\n" in message


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
        ("docs/[...slug]/[id]/route.py", "/docs/[...slug]/[id]"),
        ("[...all]/x/route.py", "/[...all]/x"),
        ("docs/[...slug]/(group)/edit/page.py", "/docs/[...slug]/edit"),
        ("docs/[...a]/[...b]/page.py", "/docs/[...a]/[...b]"),
        ("docs/[...a]/[[...b]]/x/page.py", "/docs/[...a]/[[...b]]/x"),
    ],
)
def test_a_catch_all_must_be_the_last_segment(tree: Tree, path: str, route: str) -> None:
    assert refusal(tree(routable(path))) == (
        f'Catch-all must be the last part of the URL in route "{route}". (app/{path})'
    )


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("docs/[[...slug]]/edit/page.py", "/docs/[[...slug]]/edit"),
        ("[[...all]]/[id]/route.py", "/[[...all]]/[id]"),
        ("docs/[[...a]]/[[...b]]/page.py", "/docs/[[...a]]/[[...b]]"),
    ],
)
def test_an_optional_catch_all_must_be_the_last_segment(
    tree: Tree, path: str, route: str
) -> None:
    assert refusal(tree(routable(path))) == (
        f'Optional catch-all must be the last part of the URL in route "{route}". (app/{path})'
    )


def test_a_required_then_an_optional_catch_all_in_one_path_are_both_at_one_level(
    tree: Tree,
) -> None:
    path = "docs/[...required]/[[...optional]]/page.py"
    assert refusal(tree(routable(path))) == (
        "You cannot use both a required and optional catch-all route at the same level in "
        f'route "/docs/[...required]/[[...optional]]". (app/{path})'
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
        ("[]", "Parameter names cannot be empty in route {}."),
        ("[...]", "Parameter names cannot be empty in route {}."),
        ("[[...]]", "Parameter names cannot be empty in route {}."),
        ("[[id]]", 'Optional route parameters are not yet supported ("[[id]]") in route {}.'),
        ("[[[id]]]", "Segment names may not start or end with extra brackets ('[id]') "
                     "in route {}."),
        ("[..id]", "Segment names may not start with erroneous periods ('..id') in route {}."),
        ("[…id]", "Detected a three-dot character ('…') in parameter \"…id\" in route {}. "
                  "Did you mean ('...')?"),
        ("()", "Group names may not be empty ('()') in route {}."),
        ("@slot", "Parallel routes ('@slot') are not supported by microroute in route {}."),
        ("(.)photo", "Intercepting routes ('(.)photo') are not supported by microroute "
                     "in route {}."),
    ],
)
@pytest.mark.parametrize(
    ("where", "route"),
    [("{}/route.py", "/{}"), ("shop/{}/page.py", "/shop/{}"),
     ("{}/deep/route.py", "/{}/deep"), ("(group)/x/{}/page.py", "/x/{}")],
)
def test_a_malformed_segment_is_refused_naming_the_route_and_the_file(
    tree: Tree, folder: str, reason: str, where: str, route: str
) -> None:
    path = where.format(folder)
    message = reason.format(f'"{route.format(folder)}"')
    assert refusal(tree(routable("about/page.py", path))) == f"{message} (app/{path})"


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
    route = "/" + "/".join(path.split("/")[:-1]).replace("(group)/", "")
    assert refusal(tree(routable(path))) == (
        f'You cannot have the same slug name "{name}" repeat within a single dynamic path '
        f'in route "{route}". (app/{path})'
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
    route = "/" + "/".join(path.split("/")[:-1])
    assert refusal(tree(routable(path))) == (
        f'You cannot have the slug names "{first}" and "{second}" differ only by non-word '
        f'symbols within a single dynamic path in route "{route}". (app/{path})'
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


EVERY_PROBLEM_OF_BROKEN = (
    "The route tree has 3 problems:\n\n"
    'Catch-all must be the last part of the URL in route "/docs/[...slug]/edit". '
    "(app/docs/[...slug]/edit/page.py)\n\n"
    "Conflicting routes at /y: app/(a)/y/route.py, app/(b)/y/route.py\n\n"
    "You cannot use different slug names for the same dynamic path ('id' !== 'slug'). "
    "(app/z/[id]/a/page.py, app/z/[slug]/b/page.py)"
)


def test_a_tree_with_several_problems_gets_one_error_listing_them_all(tmp_path: Path) -> None:
    assert refusal(write_tree(tmp_path, routable(*BROKEN))) == EVERY_PROBLEM_OF_BROKEN


def test_the_same_broken_tree_gives_the_same_message_every_time(tmp_path: Path) -> None:
    app_dir = write_tree(tmp_path, routable(*BROKEN))
    assert {refusal(app_dir) for _ in range(5)} == {EVERY_PROBLEM_OF_BROKEN}


def test_the_message_does_not_depend_on_the_order_files_were_written(tmp_path: Path) -> None:
    forwards = write_tree(tmp_path / "forwards", routable(*BROKEN))
    backwards = write_tree(tmp_path / "backwards", routable(*reversed(BROKEN)))
    assert refusal(forwards) == refusal(backwards) == EVERY_PROBLEM_OF_BROKEN


def test_both_problems_of_an_optional_catch_all_below_a_renamed_parameter(tree: Tree) -> None:
    # Next.js's validate-app-paths.test.ts: `/blog/[category]/[[...slug]]` with
    # zero slug segments is `/blog/[category]`, which `/blog/[cat]` also is.
    app_dir = tree(routable("blog/[category]/[[...slug]]/page.py", "blog/[cat]/page.py"))
    files = "(app/blog/[cat]/page.py, app/blog/[category]/[[...slug]]/page.py)"
    assert refusal(app_dir) == (
        "The route tree has 2 problems:\n\n"
        f"You cannot use different slug names for the same dynamic path ('cat' !== 'category'). "
        f"{files}\n\n"
        "You cannot define a route with the same specificity as an optional catch-all route "
        f'("/blog/[cat]" and "/blog/[*]/[[...slug]]"). {files}'
    )


def test_malformed_folders_are_listed_with_the_other_problems(tree: Tree) -> None:
    app_dir = tree(routable("x/[]/route.py", "docs/[...]/page.py", "a/[[...slug]]/b/route.py",
                            "y/route.py", "(g)/y/page.py"))
    assert refusal(app_dir) == (
        "The route tree has 4 problems:\n\n"
        'Parameter names cannot be empty in route "/docs/[...]". (app/docs/[...]/page.py)\n\n'
        'Parameter names cannot be empty in route "/x/[]". (app/x/[]/route.py)\n\n'
        'Optional catch-all must be the last part of the URL in route "/a/[[...slug]]/b". '
        "(app/a/[[...slug]]/b/route.py)\n\n"
        "Conflicting route and page at /y: app/(g)/y/page.py, app/y/route.py"
    )
