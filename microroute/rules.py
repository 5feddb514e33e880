"""The load-time rules: route trees that Next.js refuses, microroute refuses too.

`check(files)` looks at every routable file at once (after private folders
are dropped and each folder name is parsed by `segments`) and raises one
`RouteError` listing every broken rule, so that one restart shows them all
(as Next.js lists every ambiguous pattern at once). The problems come in a
fixed order, so the same tree always gets the same message. The messages use
Next.js's wording, so its documentation and search results explain them, and
name the files involved.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable

from .errors import RouteError
from .routes import RoutableFile
from .segments import CATCH_ALL, OPTIONAL_CATCH_ALL, STATIC, SegmentKind


def check(files: list[RoutableFile], earlier: Iterable[str] = ()) -> None:
    """Raise one `RouteError` listing every rule the tree breaks (after the
    problems found `earlier` in it, such as malformed folder names); return
    quietly if it breaks none."""
    problems = list(earlier)
    for routable in files:
        if routable.parameters:
            problems += _path_problems(routable)
    problems += _same_url_problems(files)
    by_shape, parameters = _index(files)
    # One shape, several patterns: ambiguous. (One pattern is a conflict, told above.)
    ambiguous = {
        shape: group
        for shape, group in by_shape.items()
        if len(group) > 1 and len({routable.pattern for routable in group}) > 1
    }
    if ambiguous:
        problems.append(_ambiguity(ambiguous))
    problems += _sibling_problems(parameters, by_shape, ambiguous)
    if len(problems) == 1:
        raise RouteError(problems[0])
    if problems:
        raise RouteError(
            f"The route tree has {len(problems)} problems:\n\n" + "\n\n".join(problems)
        )


def _path_problems(routable: RoutableFile) -> list[str]:
    """What is wrong within one file's path: catch-alls that are not last, and
    parameter names used twice (or differing only by symbols)."""
    problems = []
    in_route = f'in route "{routable.pattern}". ({routable.file})'
    seen: list[str] = []
    for segment in routable.parameters:
        for earlier in seen:
            if earlier == segment.name:
                problems.append(
                    f'You cannot have the same slug name "{segment.name}" repeat within '
                    f"a single dynamic path {in_route}"
                )
            elif _word_characters(earlier) == _word_characters(segment.name):
                problems.append(
                    f'You cannot have the slug names "{earlier}" and "{segment.name}" differ '
                    f"only by non-word symbols within a single dynamic path {in_route}"
                )
        seen.append(segment.name)
    # As Next.js checks it: anything after a catch-all (or a second catch-all
    # of the same kind) is misplaced; a required and an optional one, the
    # optional last, are "both at the same level".
    catch_alls: set[SegmentKind] = set()
    for segment in routable.segments:
        if catch_alls and (segment.kind < CATCH_ALL or segment.kind in catch_alls):
            which = "Catch-all" if CATCH_ALL in catch_alls else "Optional catch-all"
            problems.append(f"{which} must be the last part of the URL {in_route}")
            break
        if segment.kind >= CATCH_ALL:
            catch_alls.add(segment.kind)
    else:
        if len(catch_alls) == 2:
            problems.append(
                "You cannot use both a required and optional catch-all route at the same level "
                + in_route
            )
    return problems


# Parameter names repeat ("id", "slug"). Speed: App() over 1,000 route
# files runs 244 M instructions, 248 M without the cache.
@functools.lru_cache(maxsize=4096)
def _word_characters(name: str) -> str:
    return re.sub(r"\W", "", name)


# What a parameter looks like in a route's shape: the URL with its parameters'
# names hidden, "/blog/[*]". Two routes of one shape take the same requests.
_HIDDEN = ("", "[*]", "[...*]", "[[...*]]")  # by SegmentKind; a static segment shows its name


# The parameters that follow each place in the URL space, by the place's
# shape and their kind: ("/blog", DYNAMIC) for `blog/[slug]`. Parameters of
# one kind at one place are one and the same segment (`blog/[id]` and
# `blog/[slug]` take the same requests), which is why their names must agree.
# Each name keeps the first file that uses it there: the one a message names.
Parameters = dict[tuple[str, SegmentKind], dict[str, RoutableFile]]


def _index(files: list[RoutableFile]) -> tuple[dict[str, list[RoutableFile]], Parameters]:
    """The files by their shape, and the parameters by their place: both in
    one pass over every file's segments."""
    by_shape: dict[str, list[RoutableFile]] = {}
    parameters: Parameters = {}
    for routable in files:
        shape = routable.pattern  # the shape of a file without parameters
        if routable.parameters:
            shape = ""
            for segment in routable.segments:
                kind = segment.kind
                if kind is not STATIC:
                    parameters.setdefault((shape, kind), {}).setdefault(segment.name, routable)
                shape = f"{shape}/{_HIDDEN[kind] or segment.name}"
        by_shape.setdefault(shape, []).append(routable)
    return by_shape, parameters


def _same_url_problems(files: list[RoutableFile]) -> list[str]:
    if len({routable.pattern for routable in files}) == len(files):
        return []  # the common case, told cheaply (Speed: see RoutableFile)
    by_pattern: dict[str, list[RoutableFile]] = defaultdict(list)
    for routable in files:
        by_pattern[routable.pattern].append(routable)
    problems = []
    for pattern, group in sorted(by_pattern.items()):
        if len(group) < 2:
            continue
        kinds = {routable.kind for routable in group}
        what = "route and page" if len(kinds) == 2 else f"{group[0].kind}s"
        problems.append(f"Conflicting {what} at {pattern}: {_names(group)}")
    return problems


def _ambiguity(ambiguous: dict[str, list[RoutableFile]]) -> str:
    """Routes that differ only in their parameters' names (`blog/[id]` and
    `blog/[slug]` each take every request the other takes), all of them in
    one message, as Next.js words it."""
    patterns = [
        f'Ambiguous route pattern "{shape}" matches multiple routes:\n'
        + "\n".join(f"  - {name}" for name in sorted(routable.file for routable in group))
        for shape, group in sorted(ambiguous.items())
    ]
    return (
        "Ambiguous app routes detected:\n\n" + "\n\n".join(patterns) + "\n\n"
        "These routes cannot be distinguished from each other when matching URLs. Please "
        "ensure that dynamic segments have unique patterns or use different static segments."
    )


def _sibling_problems(
    parameters: Parameters,
    by_shape: dict[str, list[RoutableFile]],
    ambiguous: dict[str, list[RoutableFile]],
) -> list[str]:
    # Every problem is found, and they are listed in match order, so that the
    # message is the same however the files were listed.
    problems = [
        problem
        for (place, kind), names in parameters.items()
        if (problem := _sibling_problem(place, kind, names, parameters, by_shape, ambiguous))
    ]
    return [message for *_, message in sorted(problems)]


def _sibling_problem(
    place: str,
    kind: SegmentKind,
    names: dict[str, RoutableFile],
    parameters: Parameters,
    by_shape: dict[str, list[RoutableFile]],
    ambiguous: dict[str, list[RoutableFile]],
) -> tuple[tuple[tuple[SegmentKind, str], ...], int, str] | None:
    """What is wrong with the parameters of one kind at one place, if anything,
    as (where the place comes in match order, which problem it is, the message).

    The problems at one place rank: names that disagree (by their kind, 1 to
    3), then a required catch-all beside the optional one (4), then a route
    at the place itself beside the optional one (5)."""
    if len(names) == 1 and kind is not OPTIONAL_CATCH_ALL:
        return None  # the common case: one name, nothing to clash with
    # Any file through the place spells it.
    [(name, routable), *others] = names.items()
    depth = place.count("/")
    order = tuple(
        (segment.kind, segment.name if segment.kind is STATIC else "")
        for segment in routable.segments[:depth]
    )
    if others:
        first, second = sorted(names)[:2]
        clashing = [names[first], names[second]]
        if any(all(_holds(group, file) for file in clashing) for group in ambiguous.values()):
            return None  # already told: the two routes are ambiguous
        return order, kind, (
            "You cannot use different slug names for the same dynamic path "
            f"('{first}' !== '{second}'). ({_names(clashing)})"
        )
    required = parameters.get((place, CATCH_ALL))
    if required:
        [(required_name, required_file), *_] = required.items()
        return order, 4, (
            "You cannot use both a required and optional catch-all route at the same level "
            f'("[...{required_name}]" and "[[...{name}]]"). '
            f"({_names([required_file, routable])})"
        )
    routed = by_shape.get(place or "/")
    if routed:
        # Next.js names the route, and the optional catch-all by its shape.
        return order, 5, (
            "You cannot define a route with the same specificity as an optional catch-all "
            f'route ("{routed[0].pattern}" and "{place}/[[...{name}]]"). '
            f"({_names([routed[0], routable])})"
        )
    return None


def _holds(group: list[RoutableFile], file: RoutableFile) -> bool:
    return any(member is file for member in group)


def _names(files: Iterable[RoutableFile]) -> str:
    return ", ".join(sorted(routable.file for routable in files))
