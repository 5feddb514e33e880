"""Conditional requests (RFC 9110 §13): does the client already have this answer?

A browser that has a copy sends what it knows of it, and the server answers
304 Not Modified, with no body, when the copy is still good:

    If-None-Match: "5f3a-1c"                    the copy's ETag
    If-Modified-Since: Tue, 01 Dec 2026 ...     the copy's Last-Modified

`is_fresh` is the one place that decides, for `Response.make_conditional`
and for public files alike; `if_range_matches` decides whether a `Range`
still applies to the file as it is now. werkzeug parses the headers (entity
tags, HTTP dates); the rules of precedence are written out here, because
werkzeug's `is_resource_modified` mixes in `If-Match`, whose answer is a
412, not a 304.
"""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.http import generate_etag, parse_date, parse_etags, unquote_etag


def etag_for(body: bytes) -> str:
    """A strong ETag naming these bytes: `etag_for(b"hi")` -> `'"c22b5f91..."'`."""
    return f'"{generate_etag(body)}"'


def is_fresh(environ: Mapping[str, object], etag: str | None, last_modified: str | None) -> bool:
    """Whether the client's copy, as its request describes it, is still this one.

    RFC 9110 §13.2.2: `If-None-Match` decides when it is sent, comparing
    entity tags weakly (`W/"x"` matches `"x"`: the copy is good enough to
    show); only without it does `If-Modified-Since` count, against the
    `Last-Modified` date. A date that does not parse is ignored.

    >>> is_fresh({"HTTP_IF_NONE_MATCH": 'W/"v1"'}, '"v1"', None)
    True
    """
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if isinstance(if_none_match, str):
        tags = parse_etags(if_none_match)
        if etag is None:  # only "*" (any version at all) matches an untagged answer
            return tags.star_tag
        return tags.contains_weak(unquote_etag(etag)[0])
    if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if not isinstance(if_modified_since, str) or last_modified is None:
        return False
    since, modified = parse_date(if_modified_since), parse_date(last_modified)
    return since is not None and modified is not None and modified <= since


def if_range_matches(
    environ: Mapping[str, object], etag: str | None, last_modified: str | None
) -> bool:
    """Whether a `Range` request may be answered with part of this file.

    Without `If-Range`, yes. With one, only if it names this very version
    (RFC 9110 §13.1.5): the same strong ETag, or exactly the `Last-Modified`
    date; otherwise the client gets the whole file, never a piece of a
    newer one to splice onto its older copy.
    """
    if_range = environ.get("HTTP_IF_RANGE")
    if not isinstance(if_range, str):
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', 'W/"')):
        if etag is None:
            return False
        wanted, wanted_weak = unquote_etag(if_range)
        ours, ours_weak = unquote_etag(etag)
        return not (wanted_weak or ours_weak) and wanted == ours
    if last_modified is None:
        return False
    date = parse_date(if_range)
    return date is not None and date == parse_date(last_modified)

