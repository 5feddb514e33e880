"""`microroute/matcher.py`: Next.js's proxy matcher syntax, parsed at load.

Paths are given as `paths.split` gives them: `/` is `[]`, `/api/` is `["api", ""]`.
"""

from __future__ import annotations

import pytest

from microroute import RouteError
from microroute.matcher import Matcher, from_config


def matches(patterns: str | list[str], path: str) -> bool:
    segments = path[1:].split("/") if path != "/" else []
    return Matcher.parse(patterns, "app/proxy.py").matches(segments)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/about", "/about", True),
        ("/about", "/about/team", False),
        ("/about", "/abou", False),
        ("/about", "/", False),
        ("/", "/", True),
        ("/", "/about", False),
        ("/blog/:slug", "/blog/hello", True),
        ("/blog/:slug", "/blog", False),
        ("/blog/:slug", "/blog/", False),  # a parameter is never empty
        ("/blog/:slug", "/blog/a/b", False),
        ("/blog/:slug/edit", "/blog/a/edit", True),
        ("/api/:path*", "/api", True),
        ("/api/:path*", "/api/", True),
        ("/api/:path*", "/api/products/42", True),
        ("/api/:path*", "/apis", False),
        ("/api/:path*", "/about", False),
        ("/api/:path+", "/api", False),
        ("/api/:path+", "/api/products", True),
        ("/api/:path+", "/api/products/42", True),
        ("/:path*", "/", True),
        ("/:path*", "/anything/at/all", True),
        ("/café", "/café", True),
    ],
)
def test_one_pattern(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


def test_any_of_several_patterns() -> None:
    patterns = ["/api/:path*", "/admin"]
    assert matches(patterns, "/api/x")
    assert matches(patterns, "/admin")
    assert not matches(patterns, "/admin/users")
    assert not matches(patterns, "/about")


@pytest.mark.parametrize(
    ("matcher", "message"),
    [
        ("api", "must be a path starting with '/'"),
        ("", "must be a path starting with '/'"),
        (42, "must be a path pattern or a non-empty list"),
        ([], "must be a path pattern or a non-empty list"),
        ([42], "must be a path starting with '/'"),
        ("/api/", "has an empty segment"),
        ("/api//x", "has an empty segment"),
        ("/api/:path*/edit", "must be the last segment"),
        ("/((?!_next/static).*)", "syntax microroute does not support"),
        ("/blog/:slug?", "syntax microroute does not support"),
        ("/blog/:1st", "syntax microroute does not support"),
        ("/blog/post:id", "syntax microroute does not support"),
        ("/files/*", "syntax microroute does not support"),
        ("/blog/[slug]", "syntax microroute does not support"),
    ],
)
def test_a_malformed_matcher_is_a_route_error_naming_the_file(
    matcher: object, message: str
) -> None:
    with pytest.raises(RouteError, match="app/proxy.py") as caught:
        Matcher.parse(matcher, "app/proxy.py")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "config", [{"matchers": ["/api"]}, {"matcher": "/api", "runtime": "edge"}, ["/api"], "/api"]
)
def test_config_is_a_dict_with_only_a_matcher(config: object) -> None:
    with pytest.raises(RouteError, match="config must be a dict with one key, 'matcher'"):
        from_config(config, "app/proxy.py")


def test_no_config_runs_everywhere() -> None:
    assert from_config(None, "app/proxy.py") is None
