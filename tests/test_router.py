"""`microroute.router`: decoded path segments -> the route that serves them
(README, "Segments: what a folder matches").

Each test writes a small route tree, loads it with `loader.load_tree` and asks
`Router.match` about paths written as "a/b/c" (the segments the router is
given; `""` is the root). A match is shown as `(pattern, params)`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from microroute.loader import load_tree
from microroute.router import Router
from microroute.routes import Params, Route
from microroute.segments import SegmentKind

ROUTE = "def GET():\n    pass\n"
PAGE = "def Page():\n    return ''\n"

Found = tuple[str, Params] | None


def route_files(folders: Iterable[str]) -> dict[str, str]:
    """`["", "about", "page:blog"]` -> a `route.py` in each folder ("page:" for a `page.py`)."""
    files = {}
    for folder in folders:
        kind, _, folder = folder.rpartition(":")
        name = "page.py" if kind == "page" else "route.py"
        files[f"{folder}/{name}" if folder else name] = PAGE if kind == "page" else ROUTE
    return files


def segments_of(path: str) -> list[str]:
    return path.split("/") if path else []


def found(router: Router, path: str) -> Found:
    """What `router.match` answers for "a/b", as `(pattern, params)`."""
    result = router.match(segments_of(path))
    if result is None:
        return None
    route, params = result
    return route.pattern, params


@pytest.fixture
def router(tree: Callable[[dict[str, str]], Path]) -> Callable[..., Router]:
    """`router("x/[c]/deep", "[a]/b")` -> a `Router` over those route folders."""
    return lambda *folders: Router(load_tree(tree(route_files(folders))).routes)


# --- one kind of segment at a time -------------------------------------------


def test_static_paths_match_exactly(router: Callable[..., Router]) -> None:
    routes = router("", "about", "api/products", "api/products/featured")
    assert found(routes, "") == ("/", {})
    assert found(routes, "about") == ("/about", {})
    assert found(routes, "api/products") == ("/api/products", {})
    assert found(routes, "api/products/featured") == ("/api/products/featured", {})


@pytest.mark.parametrize("path", ["api", "products", "about/more", "api/products/x", "x"])
def test_no_match_is_none(router: Callable[..., Router], path: str) -> None:
    routes = router("about", "api/products")
    assert found(routes, path) is None


def test_an_empty_tree_matches_nothing() -> None:
    routes = Router([])
    assert routes.match([]) is None
    assert routes.match(["about"]) is None


def test_a_folder_without_a_route_file_is_not_routable(router: Callable[..., Router]) -> None:
    routes = router("api/products")
    assert found(routes, "api") is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("About", ("/About", {})),
        ("about", None),
        ("ABOUT", None),
    ],
)
def test_static_matching_is_case_sensitive(
    router: Callable[..., Router], path: str, expected: Found
) -> None:
    assert found(router("About"), path) == expected


def test_a_case_mismatch_falls_through_to_a_dynamic_sibling(
    router: Callable[..., Router],
) -> None:
    routes = router("About", "[slug]")
    assert found(routes, "About") == ("/About", {})
    assert found(routes, "about") == ("/[slug]", {"slug": "about"})


def test_a_dynamic_segment_takes_any_one_segment(router: Callable[..., Router]) -> None:
    routes = router("api/products/[id]")
    assert found(routes, "api/products/42") == ("/api/products/[id]", {"id": "42"})
    assert found(routes, "api/products/a/b") is None
    assert found(routes, "api/products") is None


@pytest.mark.parametrize("segment", ["a/b", "%41", "hello world", "café", "a?b#c"])
def test_a_param_is_the_segment_as_given(router: Callable[..., Router], segment: str) -> None:
    # The router is given decoded segments (decoding is paths.split's job),
    # so a "/" or "%" inside one is a plain character here.
    result = router("items/[id]").match(["items", segment])
    assert result is not None
    assert result[1] == {"id": segment}


def test_several_dynamic_segments_each_get_their_param(router: Callable[..., Router]) -> None:
    routes = router("shop/[category]/[item]")
    assert found(routes, "shop/hats/fedora") == (
        "/shop/[category]/[item]",
        {"category": "hats", "item": "fedora"},
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("docs/a", {"slug": ["a"]}),
        ("docs/a/b", {"slug": ["a", "b"]}),
        ("docs/a/b/c/d", {"slug": ["a", "b", "c", "d"]}),
    ],
)
def test_a_catch_all_takes_one_or_more_segments_as_a_list(
    router: Callable[..., Router], path: str, expected: Params
) -> None:
    assert found(router("docs/[...slug]"), path) == ("/docs/[...slug]", expected)


def test_a_catch_all_does_not_match_zero_segments(router: Callable[..., Router]) -> None:
    assert found(router("docs/[...slug]"), "docs") is None


def test_an_optional_catch_all_matches_zero_segments_with_the_key_absent(
    router: Callable[..., Router],
) -> None:
    result = found(router("docs/[[...slug]]"), "docs")
    assert result == ("/docs/[[...slug]]", {})
    assert result is not None and "slug" not in result[1]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("docs/a", {"slug": ["a"]}),
        ("docs/a/b/c", {"slug": ["a", "b", "c"]}),
    ],
)
def test_an_optional_catch_all_takes_one_or_more_segments_as_a_list(
    router: Callable[..., Router], path: str, expected: Params
) -> None:
    assert found(router("docs/[[...slug]]"), path) == ("/docs/[[...slug]]", expected)


def test_an_optional_catch_all_at_the_root_matches_every_path(
    router: Callable[..., Router],
) -> None:
    routes = router("[[...all]]")
    assert found(routes, "") == ("/[[...all]]", {})
    assert found(routes, "a") == ("/[[...all]]", {"all": ["a"]})
    assert found(routes, "a/b") == ("/[[...all]]", {"all": ["a", "b"]})


def test_a_catch_all_at_the_root_matches_every_path_but_the_root(
    router: Callable[..., Router],
) -> None:
    routes = router("[...all]")
    assert found(routes, "") is None
    assert found(routes, "a/b") == ("/[...all]", {"all": ["a", "b"]})


def test_a_catch_all_param_is_a_fresh_list_per_match(router: Callable[..., Router]) -> None:
    routes = router("docs/[...slug]")
    segments = ["docs", "a", "b"]
    result = routes.match(segments)
    assert result is not None
    result[1]["slug"].append("changed")  # type: ignore[union-attr]
    assert segments == ["docs", "a", "b"]
    assert found(routes, "docs/a/b") == ("/docs/[...slug]", {"slug": ["a", "b"]})


# --- folder names that are not plain words -------------------------------------


@pytest.mark.parametrize(
    ("folders", "path", "expected"),
    [
        (["(shop)/cart"], "cart", ("/cart", {})),
        (["(shop)/cart"], "(shop)/cart", None),
        (["(a)/(b)/deep/(c)/x"], "deep/x", ("/deep/x", {})),
        (["(shop)/[id]"], "42", ("/[id]", {"id": "42"})),
        (["(marketing)/about", "(shop)/cart"], "about", ("/about", {})),
        (["(marketing)/about", "(shop)/cart"], "cart", ("/cart", {})),
        (["(site)"], "", ("/", {})),
        (["page:(site)/about"], "about", ("/about", {})),
    ],
)
def test_groups_are_transparent(
    router: Callable[..., Router], folders: list[str], path: str, expected: Found
) -> None:
    assert found(router(*folders), path) == expected


@pytest.mark.parametrize(
    ("folder", "path", "expected"),
    [
        ("hello world", "hello world", ("/hello world", {})),
        ("hello world", "hello%20world", None),  # segments arrive decoded
        ("%5Fnext", "_next", ("/_next", {})),
        ("%5fnext", "_next", ("/_next", {})),
        ("%5Fnext", "%5Fnext", None),
        ("v1.0", "v1.0", ("/v1.0", {})),
        ("café", "café", ("/café", {})),
    ],
)
def test_static_folders_are_compared_with_decoded_segments(
    router: Callable[..., Router], folder: str, path: str, expected: Found
) -> None:
    assert found(router(folder), path) == expected


def test_a_private_folder_is_never_matched(router: Callable[..., Router]) -> None:
    routes = router("_lib/x", "%5Flib/y")
    assert found(routes, "_lib/x") is None
    assert found(routes, "_lib/y") == ("/_lib/y", {})


# --- precedence: static > [dynamic] > [...catch-all] > [[...optional]] -------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("blog/new", ("/blog/new", {})),
        ("blog/42", ("/blog/[id]", {"id": "42"})),
        ("blog/42/comments", ("/blog/[...rest]", {"rest": ["42", "comments"]})),
        ("blog", ("/blog", {})),
    ],
)
def test_static_beats_dynamic_beats_catch_all(
    router: Callable[..., Router], path: str, expected: Found
) -> None:
    routes = router("blog", "blog/new", "blog/[id]", "blog/[...rest]")
    assert found(routes, path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("shop", ("/shop/[[...slug]]", {})),
        ("shop/sale", ("/shop/sale", {})),
        ("shop/42", ("/shop/[id]", {"id": "42"})),
        ("shop/42/x", ("/shop/[[...slug]]", {"slug": ["42", "x"]})),
    ],
)
def test_static_and_dynamic_beat_an_optional_catch_all(
    router: Callable[..., Router], path: str, expected: Found
) -> None:
    routes = router("shop/sale", "shop/[id]", "shop/[[...slug]]")
    assert found(routes, path) == expected


def test_precedence_is_decided_from_the_left(router: Callable[..., Router]) -> None:
    # Both match "x/y". `x/[...rest]` wins on its first segment (static x
    # against [id]), although `[id]/y` has more static segments.
    routes = router("x/[...rest]", "[id]/y")
    assert found(routes, "x/y") == ("/x/[...rest]", {"rest": ["y"]})
    assert found(routes, "z/y") == ("/[id]/y", {"id": "z"})


def test_a_static_first_segment_wins_over_a_later_static_one(
    router: Callable[..., Router],
) -> None:
    routes = router("x/[c]", "[a]/b")
    assert found(routes, "x/b") == ("/x/[c]", {"c": "b"})


def test_a_catch_all_deeper_down_beats_an_optional_catch_all_above(
    router: Callable[..., Router],
) -> None:
    routes = router("a/[...x]", "[[...y]]")
    assert found(routes, "a/b") == ("/a/[...x]", {"x": ["b"]})
    assert found(routes, "a") == ("/[[...y]]", {"y": ["a"]})
    assert found(routes, "") == ("/[[...y]]", {})


# --- backtracking over the whole path ------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("x/b", ("/[a]/b", {"a": "x"})),  # x/[c]/deep cannot match two segments
        ("x/y/deep", ("/x/[c]/deep", {"c": "y"})),
        ("z/b", ("/[a]/b", {"a": "z"})),
        ("x/b/deep", ("/x/[c]/deep", {"c": "b"})),
        ("x/y", None),
    ],
)
def test_the_spec_example_backtracks(
    router: Callable[..., Router], path: str, expected: Found
) -> None:
    routes = router("x/[c]/deep", "[a]/b")
    assert found(routes, path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/b/c/d", ("/a/b/c/d", {})),
        ("a/b/c/e", ("/a/[x]/c/e", {"x": "b"})),
        ("a/b/c/f", ("/[y]/b/c/f", {"y": "a"})),
        ("a/b/c/g", None),
        ("q/b/c/f", ("/[y]/b/c/f", {"y": "q"})),
    ],
)
def test_backtracking_goes_back_several_segments(
    router: Callable[..., Router], path: str, expected: Found
) -> None:
    routes = router("a/b/c/d", "a/[x]/c/e", "[y]/b/c/f")
    assert found(routes, path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("blog/featured", ("/blog/featured", {})),
        ("blog/other", ("/[...slug]", {"slug": ["blog", "other"]})),
        ("blog/featured/x", ("/[...slug]", {"slug": ["blog", "featured", "x"]})),
    ],
)
def test_a_static_dead_end_falls_back_to_a_catch_all(
    router: Callable[..., Router], path: str, expected: Found
) -> None:
    routes = router("blog/featured", "[...slug]")
    assert found(routes, path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/1/edit", ("/a/[id]/edit", {"id": "1"})),
        ("a/1", ("/a/[...rest]", {"rest": ["1"]})),
        ("a/1/view", ("/a/[...rest]", {"rest": ["1", "view"]})),
    ],
)
def test_a_dynamic_dead_end_falls_back_to_a_catch_all_beside_it(
    router: Callable[..., Router], path: str, expected: Found
) -> None:
    routes = router("a/[id]/edit", "a/[...rest]")
    assert found(routes, path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a", ("/a/[[...rest]]", {})),
        ("a/1", ("/a/[[...rest]]", {"rest": ["1"]})),
        ("a/1/x", ("/a/[id]/x", {"id": "1"})),
    ],
)
def test_a_dynamic_dead_end_falls_back_to_an_optional_catch_all(
    router: Callable[..., Router], path: str, expected: Found
) -> None:
    routes = router("a/[id]/x", "a/[[...rest]]")
    assert found(routes, path) == expected


def test_params_of_a_failed_branch_never_leak(router: Callable[..., Router]) -> None:
    # "shop/hat/x" goes down shop/[item] (item=hat) and finds no "x" there;
    # the match comes from [section]/[...rest], without "item".
    routes = router("shop/[item]/reviews", "[section]/[...rest]")
    assert found(routes, "shop/hat/x") == (
        "/[section]/[...rest]",
        {"section": "shop", "rest": ["hat", "x"]},
    )


def test_params_of_a_failed_dynamic_branch_never_leak(router: Callable[..., Router]) -> None:
    # [a]/[b]/c takes "p" and "q" as a and b, then fails on "z"; the match is
    # [a]/[...rest], whose params must not include b.
    routes = router("[a]/[b]/c", "[a]/[...rest]")
    assert found(routes, "p/q/z") == ("/[a]/[...rest]", {"a": "p", "rest": ["q", "z"]})


def test_matches_do_not_share_params(router: Callable[..., Router]) -> None:
    routes = router("items/[id]", "[...all]")
    first = routes.match(["items", "1"])
    second = routes.match(["other", "x"])
    assert first is not None and second is not None
    assert first[1] == {"id": "1"}
    assert second[1] == {"all": ["other", "x"]}


# --- a brute-force check against a reference matcher ---------------------------


def reference_match(routes: list[Route], segments: list[str]) -> Found:
    """Next.js's rule, written the slow and obvious way: sort every route by
    its segments' (kind, name), and the first one that fits the whole path wins."""
    in_order = sorted(routes, key=lambda r: [(int(s.kind), s.name) for s in r.segments])
    for route in in_order:
        params = _fits(route, segments)
        if params is not None:
            return route.pattern, params
    return None


def _fits(route: Route, segments: list[str]) -> Params | None:
    params: Params = {}
    for index, segment in enumerate(route.segments):
        rest = segments[index:]
        if segment.kind is SegmentKind.CATCH_ALL:
            if not rest:
                return None
            params[segment.name] = list(rest)
            return params
        if segment.kind is SegmentKind.OPTIONAL_CATCH_ALL:
            if rest:
                params[segment.name] = list(rest)
            return params
        if not rest:
            return None
        if segment.kind is SegmentKind.STATIC and segment.name != rest[0]:
            return None
        if segment.kind is SegmentKind.DYNAMIC:
            params[segment.name] = rest[0]
    return params if len(route.segments) == len(segments) else None


REFERENCE_TREES = {
    "backtracking": [
        "", "x/[c]/deep", "[a]/b", "x/y", "[a]/[d]/z", "x/[c]/[...rest]", "x/[c]/deep/y",
    ],
    "catch-alls": [
        "docs/[[...slug]]", "docs/[id]/edit", "docs/intro", "[...all]",
        "b/[id]/[[...rest]]", "b/x/y",
    ],
    "deep": [
        "a/b/c/d", "a/[x]/c/e", "[y]/b/c/f", "[y]/[z]/[w]", "a/b/[[...t]]", "[y]/b/[...u]",
    ],
    "groups and pages": [
        "page:(g)/x/[c]", "[a]/x", "page:x/[c]/[d]", "(h)/(i)/d/e", "page:d/[...f]", "page:",
    ],
    "optional at the root": ["[[...all]]", "a/[b]", "a/b/c", "[x]/c/[...y]"],
}


def all_paths(alphabet: list[str], longest: int) -> Iterable[list[str]]:
    for length in range(longest + 1):
        for path in itertools.product(alphabet, repeat=length):
            yield list(path)


@pytest.mark.parametrize("name", sorted(REFERENCE_TREES))
def test_match_agrees_with_a_reference_matcher_on_every_short_path(
    tree: Callable[[dict[str, str]], Path], name: str
) -> None:
    routes = load_tree(tree(route_files(REFERENCE_TREES[name]))).routes
    router = Router(routes)
    statics = {s.name for route in routes for s in route.segments if s.kind is SegmentKind.STATIC}
    # Every static name, one name no route has, and the empty segment.
    alphabet = sorted(statics) + ["unknown", ""]
    served = set()
    for segments in all_paths(alphabet, longest=4):
        expected = reference_match(routes, segments)
        result = router.match(segments)
        actual = None if result is None else (result[0].pattern, result[1])
        assert actual == expected, f"path {'/'.join(segments)!r}"
        if expected is not None:
            served.add(expected[0])
    # The check is only as good as its paths: each route must have served one.
    assert served == {route.pattern for route in routes}


# --- find: the request's path, with the static-path dict ------------------------


def test_find_takes_a_path_without_parameters_whole_without_splitting_it(
    router: Callable[..., Router],
) -> None:
    routes = router("about", "[slug]")
    route, params, segments = routes.find({"PATH_INFO": "/about"})
    assert (route and route.pattern, params, segments) == ("/about", {}, None)


def test_find_splits_a_path_with_escapes_or_parameters(router: Callable[..., Router]) -> None:
    routes = router("about", "[slug]")
    escaped = {"PATH_INFO": "/about", "RAW_URI": "/%61bout"}
    route, params, segments = routes.find(escaped)
    assert (route and route.pattern, params, segments) == ("/about", {}, ["about"])
    route, params, segments = routes.find({"PATH_INFO": "/x"})
    assert (route and route.pattern, params, segments) == ("/[slug]", {"slug": "x"}, ["x"])


def test_find_serves_no_path_with_an_empty_segment(router: Callable[..., Router]) -> None:
    routes = router("[slug]", "[slug]/[b]")
    for path, segments in (("/x/", ["x", ""]), ("//x", ["", "x"])):
        route, _, found_segments = routes.find({"PATH_INFO": path})
        assert (route, found_segments) == (None, segments)


# --- not_found: the nearest not_found.py, in the same tree --------------------


NOT_FOUND = "def NotFound():\n    return ''\n"


@pytest.fixture
def not_found_router(tree: Callable[[dict[str, str]], Path]) -> Callable[..., Router]:
    """`not_found_router("", "shop/[cat]")` -> a `Router` over a `not_found.py` in each folder."""

    def make(*folders: str) -> Router:
        files = {"about/route.py": ROUTE}
        files.update({f"{folder}/not_found.py" if folder else "not_found.py": NOT_FOUND
                      for folder in folders})
        loaded = load_tree(tree(files))
        return Router(loaded.routes, loaded.not_found)

    return make


def nearest(router: Router, path: str) -> str | None:
    """The file of the not_found.py that `router.not_found` finds for "a/b", or None."""
    handler = router.not_found(segments_of(path))
    return None if handler is None else handler.file.removeprefix("app/")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "not_found.py"),
        ("nope", "not_found.py"),
        ("shop", "shop/not_found.py"),
        ("shop/hats", "shop/[cat]/not_found.py"),  # [cat] covers any one segment
        ("shop/hats/x/y", "shop/[cat]/not_found.py"),  # and all below it
        ("docs", "not_found.py"),  # a catch-all covers one segment or more
        ("docs/a/b", "docs/[...slug]/not_found.py"),
    ],
)
def test_the_deepest_not_found_page_that_covers_the_path_wins(
    not_found_router: Callable[..., Router], path: str, expected: str
) -> None:
    routes = not_found_router("", "shop", "shop/[cat]", "docs/[...slug]")
    assert nearest(routes, path) == expected


def test_without_a_covering_not_found_page_there_is_none(
    not_found_router: Callable[..., Router],
) -> None:
    routes = not_found_router("shop", "docs/[...slug]")
    assert [nearest(routes, path) for path in ("", "nope", "docs", "shopping")] == [None] * 4


def test_between_two_as_deep_the_static_folder_wins(
    not_found_router: Callable[..., Router],
) -> None:
    routes = not_found_router("[a]/b", "x/[c]", "x/[...rest]")
    assert nearest(routes, "x/b") == "x/[c]/not_found.py"
    assert nearest(routes, "y/b") == "[a]/b/not_found.py"


def test_a_not_found_page_below_a_catch_all_covers_paths_as_long_as_its_folder(
    not_found_router: Callable[..., Router],
) -> None:
    routes = not_found_router("docs/[...slug]/more")
    assert nearest(routes, "docs/a") is None
    assert nearest(routes, "docs/a/b") == "docs/[...slug]/more/not_found.py"
