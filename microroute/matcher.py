"""Where the proxy runs: Next.js's `config = {"matcher": [...]}`, read once, at start-up.

    # app/proxy.py
    config = {"matcher": ["/api/:path*", "/admin"]}

    matcher = Matcher.parse(["/api/:path*", "/admin"], "app/proxy.py")
    matcher.matches(["api", "products", "42"])   # True
    matcher.matches(["about"])                   # False

A pattern is a path whose segments are each one of:

    about     a literal: that segment exactly, as decoded text
    :name     any one segment, but not an empty one
    :name*    zero or more segments (the last segment of a pattern only)
    :name+    one or more segments (the last segment of a pattern only)

The request's side is the path inside the app split and decoded exactly as
the router splits it (`paths.split`), so that the proxy and the router never
disagree about which path a request names: a proxy that guards `/admin`
must see `/admin` wherever the router will serve it.

What Next.js also takes and microroute does not (regular expressions such
as `/((?!_next).*)`, `:name?`, objects with `has` and `missing`) is a
`RouteError` naming the pattern, never a pattern quietly read another way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import RouteError

_NAME = re.compile(r":[A-Za-z_][A-Za-z0-9_]*([*+]?)\Z")
_SYNTAX = frozenset("()[]{}*+?:\\")  # what path-to-regexp reads as more than a letter
_SUPPORTED = "literal segments, :name, :name* and :name+ (at the end)"


@dataclass(frozen=True, slots=True)
class _Pattern:
    fixed: tuple[str | None, ...]  # each segment's literal text, or None for `:name`
    tail: str  # "" (these segments only), "*" (and any more) or "+" (and at least one more)

    def matches(self, segments: list[str]) -> bool:
        fixed = self.fixed
        extra = len(segments) - len(fixed)
        if extra < 0 or (extra and not self.tail) or (not extra and self.tail == "+"):
            return False
        for wanted, segment in zip(fixed, segments, strict=False):
            if segment != wanted and (wanted is not None or not segment):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Matcher:
    """The paths a proxy runs for: any of its patterns."""

    patterns: tuple[_Pattern, ...]

    @classmethod
    def parse(cls, matcher: object, file: str) -> Matcher:
        """`config["matcher"]` (a pattern, or a list of them) -> a `Matcher`;
        `RouteError` naming `file` if any pattern is malformed."""
        if isinstance(matcher, str):
            matcher = [matcher]
        if not isinstance(matcher, (list, tuple)) or not matcher:
            raise RouteError(
                f"{file}: config['matcher'] must be a path pattern or a non-empty list of "
                f"them, not {matcher!r}."
            )
        return cls(tuple(_parse(pattern, file) for pattern in matcher))

    def matches(self, segments: list[str]) -> bool:
        """Whether the proxy runs for a path, given as `paths.split` gives it."""
        return any(pattern.matches(segments) for pattern in self.patterns)


def from_config(config: object, file: str) -> Matcher | None:
    """A proxy module's `config` -> its `Matcher`; None (run for every request) without one."""
    if config is None:
        return None
    if not isinstance(config, dict) or set(config) != {"matcher"}:
        raise RouteError(
            f"{file}: config must be a dict with one key, 'matcher' "
            f"(config = {{\"matcher\": [\"/api/:path*\"]}}), not {config!r}."
        )
    return Matcher.parse(config["matcher"], file)


def _parse(pattern: object, file: str) -> _Pattern:
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise RouteError(f"{file}: the matcher {pattern!r} must be a path starting with '/'.")
    parts = pattern[1:].split("/") if pattern != "/" else []
    fixed: list[str | None] = []
    tail = ""
    for part in parts:
        if tail:
            raise RouteError(
                f"{file}: in the matcher {pattern!r}, a :name* or :name+ must be the last "
                f"segment. Supported: {_SUPPORTED}."
            )
        if not part:
            raise RouteError(f"{file}: the matcher {pattern!r} has an empty segment ('//' or "
                             "a trailing '/'); write it without.")
        parameter = _NAME.match(part)
        if parameter is not None:
            tail = parameter.group(1)
            if not tail:
                fixed.append(None)
        elif _SYNTAX.isdisjoint(part):
            fixed.append(part)
        else:
            raise RouteError(
                f"{file}: the matcher {pattern!r} uses syntax microroute does not support "
                f"({part!r}). Supported: {_SUPPORTED}."
            )
    return _Pattern(tuple(fixed), tail)
