"""`microroute.segments`: one folder name -> the URL segment it stands for
(README, "Segments: what a folder matches")."""

from __future__ import annotations

import pytest

from microroute import segments
from microroute.segments import Segment, SegmentKind


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("about", Segment(SegmentKind.STATIC, "about")),
        ("About", Segment(SegmentKind.STATIC, "About")),  # case is kept: matching is case-sensitive
        ("hello world", Segment(SegmentKind.STATIC, "hello world")),
        ("v1.0", Segment(SegmentKind.STATIC, "v1.0")),
        ("[id]", Segment(SegmentKind.DYNAMIC, "id")),
        ("[product-id]", Segment(SegmentKind.DYNAMIC, "product-id")),
        ("[...slug]", Segment(SegmentKind.CATCH_ALL, "slug")),
        ("[[...slug]]", Segment(SegmentKind.OPTIONAL_CATCH_ALL, "slug")),
        ("%5Fname", Segment(SegmentKind.STATIC, "_name")),
        ("%5Fnext", Segment(SegmentKind.STATIC, "_next")),
    ],
)
def test_parse_gives_the_segment_a_folder_stands_for(folder: str, expected: Segment) -> None:
    assert segments.parse(folder) == expected


@pytest.mark.parametrize("folder", ["(group)", "(shop)", "(marketing site)"])
def test_a_group_adds_nothing_to_the_url(folder: str) -> None:
    assert segments.parse(folder) is None


@pytest.mark.parametrize(
    ("folder", "private"),
    [
        ("_lib", True),
        ("_old", True),
        ("_", True),
        ("%5Flib", False),  # the escape for a real leading underscore: routed
        ("lib", False),
        ("lib_", False),
        ("[_id]", False),
        ("(_group)", False),
    ],
)
def test_is_private_is_a_leading_underscore(folder: str, private: bool) -> None:
    assert segments.is_private(folder) is private


THREE_DOTS = "Detected a three-dot character ('…') in parameter \"{}\". Did you mean ('...')?"


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("[]", "Parameter names cannot be empty."),
        ("[...]", "Parameter names cannot be empty."),
        ("[[...]]", "Parameter names cannot be empty."),
        ("[[id]]", 'Optional route parameters are not yet supported ("[[id]]").'),
        ("[[[id]]]", "Segment names may not start or end with extra brackets ('[id]')."),
        ("[[[...slug]]]", "Segment names may not start or end with extra brackets ('[...slug]')."),
        ("[...slug]]", "Segment names may not start or end with extra brackets ('slug]')."),
        ("[..id]", "Segment names may not start with erroneous periods ('..id')."),
        ("[.id]", "Segment names may not start with erroneous periods ('.id')."),
        ("[....id]", "Segment names may not start with erroneous periods ('.id')."),
        ("[…id]", THREE_DOTS.format("…id")),
        ("[[…id]]", THREE_DOTS.format("…id")),
        ("[a…b]", THREE_DOTS.format("a…b")),
        ("()", "Group names may not be empty ('()')."),
        ("@slot", "Parallel routes ('@slot') are not supported by microroute."),
        ("@modal", "Parallel routes ('@modal') are not supported by microroute."),
        ("(.)x", "Intercepting routes ('(.)x') are not supported by microroute."),
        ("(..)x", "Intercepting routes ('(..)x') are not supported by microroute."),
        ("(...)x", "Intercepting routes ('(...)x') are not supported by microroute."),
        ("(..)(..)x", "Intercepting routes ('(..)(..)x') are not supported by microroute."),
    ],
)
def test_a_malformed_folder_name_is_refused_with_next_js_wording(
    folder: str, message: str
) -> None:
    with pytest.raises(segments.FolderNameError) as caught:
        segments.parse(folder)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("folder", "message"),
    # Next.js's own words (validate-app-paths.test.ts), the route included.
    [
        ("[]", 'Parameter names cannot be empty in route "/x/[]".'),
        ("[...]", 'Parameter names cannot be empty in route "/x/[...]".'),
        ("[…slug]", "Detected a three-dot character ('…') in parameter \"…slug\" in route "
                    "\"/x/[…slug]\". Did you mean ('...')?"),
        ("[[slug]", "Segment names may not start or end with extra brackets ('[slug') in route "
                    '"/x/[[slug]".'),
        ("[.slug]", "Segment names may not start with erroneous periods ('.slug') in route "
                    '"/x/[.slug]".'),
        ("[[slug]]", 'Optional route parameters are not yet supported ("[[slug]]") in route '
                     '"/x/[[slug]]".'),
    ],
)
def test_a_malformed_folder_name_in_its_route(folder: str, message: str) -> None:
    with pytest.raises(segments.FolderNameError) as caught:
        segments.parse(folder)
    assert caught.value.in_route(f"/x/{folder}") == message


@pytest.mark.parametrize("folder", ["about", "[id]", "[...slug]", "[[...slug]]", "v1.0"])
def test_str_writes_the_segment_as_its_folder_name(folder: str) -> None:
    segment = segments.parse(folder)
    assert segment is not None
    assert str(segment) == folder


def test_str_of_an_escaped_underscore_is_the_text_it_matches() -> None:
    assert str(segments.parse("%5Fnext")) == "_next"


@pytest.mark.parametrize(
    ("segment", "text"),
    [
        (Segment(SegmentKind.STATIC, "about"), "about"),
        (Segment(SegmentKind.DYNAMIC, "id"), "[id]"),
        (Segment(SegmentKind.CATCH_ALL, "slug"), "[...slug]"),
        (Segment(SegmentKind.OPTIONAL_CATCH_ALL, "slug"), "[[...slug]]"),
    ],
)
def test_str_of_each_kind(segment: Segment, text: str) -> None:
    assert str(segment) == text


def test_kinds_sort_in_next_js_precedence_static_first() -> None:
    assert sorted(SegmentKind, reverse=True) == [
        SegmentKind.OPTIONAL_CATCH_ALL,
        SegmentKind.CATCH_ALL,
        SegmentKind.DYNAMIC,
        SegmentKind.STATIC,
    ]
    kinds = SegmentKind
    assert kinds.STATIC < kinds.DYNAMIC < kinds.CATCH_ALL < kinds.OPTIONAL_CATCH_ALL


def test_segments_sort_by_kind_before_name() -> None:
    folders = ["[[...a]]", "[...a]", "[a]", "zebra", "apple"]
    parsed = [segment for segment in map(segments.parse, folders) if segment is not None]
    ordered = sorted(parsed, key=lambda segment: (segment.kind, segment.name))
    assert [str(segment) for segment in ordered] == ["apple", "zebra", "[a]", "[...a]", "[[...a]]"]


def test_segments_are_values() -> None:
    assert segments.parse("[id]") == segments.parse("[id]")
    assert segments.parse("[id]") == segments.Segment(SegmentKind.DYNAMIC, "id")
    assert segments.parse("[id]") != segments.parse("[...id]")
