"""Conditional GET: `Response.make_conditional(request)` and the rules in
microroute/conditional.py, each test sending the request through the app."""

from __future__ import annotations

from pathlib import Path
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client

from helpers import BufferedClient, write_tree
from microroute import App

ROUTES = {
    "api/products/route.py": """
        from microroute import Response

        def GET(request):
            return Response.json([{"id": 1}]).make_conditional(request)

        def POST(request):
            return Response.json({"created": 1}).make_conditional(request)
    """,
    "api/tagged/route.py": """
        from microroute import Response

        def GET(request):
            response = Response("v2", headers={"ETag": 'W/"v2"'})
            return response.make_conditional(request)
    """,
    "api/dated/route.py": """
        from microroute import Response

        def GET(request):
            modified = {"Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"}
            return Response("old news", headers=modified).make_conditional(request)
    """,
    "api/streamed/route.py": """
        from microroute import Response

        def GET(request):
            return Response(iter([b"a", b"b"])).make_conditional(request)
    """,
    "api/missing/route.py": """
        from microroute import Response

        def GET(request):
            return Response.json({"error": "gone"}, status=404).make_conditional(request)
    """,
}


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return BufferedClient(validator(App(write_tree(tmp_path, ROUTES))))


def test_an_etag_is_added_and_a_matching_if_none_match_is_a_304(client: Client) -> None:
    first = client.get("/api/products")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and first.json == [{"id": 1}]
    assert client.get("/api/products").headers["ETag"] == etag  # the same body, the same tag
    again = client.get("/api/products", headers={"If-None-Match": etag})
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == etag
    assert "Content-Type" not in again.headers and "Content-Length" not in again.headers
    changed = client.get("/api/products", headers={"If-None-Match": '"something-else"'})
    assert (changed.status_code, changed.json) == (200, [{"id": 1}])


def test_head_gets_the_etag_and_the_304_too(client: Client) -> None:
    head = client.head("/api/products")
    assert head.status_code == 200 and head.data == b""
    etag = head.headers["ETag"]
    assert etag == client.get("/api/products").headers["ETag"]
    assert client.head("/api/products", headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [('W/"v2"', 304), ('"v2"', 304),  # If-None-Match compares weakly (RFC 9110 §8.8.3.2)
     ('"v1", "v2"', 304), ("*", 304), ('"v1"', 200), ('W/"v1"', 200)],
)
def test_if_none_match_uses_the_weak_comparison(
    client: Client, if_none_match: str, status: int
) -> None:
    response = client.get("/api/tagged", headers={"If-None-Match": if_none_match})
    assert response.status_code == status
    assert response.headers["ETag"] == 'W/"v2"'  # the handler's own tag is kept


def test_if_range_uses_the_strong_comparison(tmp_path: Path) -> None:
    # A weak tag never satisfies If-Range (RFC 9110 §13.1.5): the whole file, not a part.
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "a.txt").write_text("0123456789")
    files = BufferedClient(App(write_tree(tmp_path, ROUTES)))
    etag = files.get("/a.txt").headers["ETag"]
    strong = files.get("/a.txt", headers={"Range": "bytes=0-1", "If-Range": etag})
    assert (strong.status_code, strong.data) == (206, b"01")
    weak = files.get("/a.txt", headers={"Range": "bytes=0-1", "If-Range": "W/" + etag})
    assert (weak.status_code, weak.data) == (200, b"0123456789")


def test_if_modified_since_against_last_modified(client: Client) -> None:
    for since, status in (
        ("Tue, 01 Dec 2026 10:00:00 GMT", 304),  # the same second
        ("Wed, 02 Dec 2026 10:00:00 GMT", 304),  # later
        ("Mon, 30 Nov 2026 10:00:00 GMT", 200),  # earlier: changed since
        ("not a date", 200),  # ignored
    ):
        response = client.get("/api/dated", headers={"If-Modified-Since": since})
        assert response.status_code == status, since
    # If-None-Match, when sent, decides alone (RFC 9110 §13.2.2).
    both = client.get("/api/dated", headers={
        "If-Modified-Since": "Wed, 02 Dec 2026 10:00:00 GMT", "If-None-Match": '"other"'})
    assert both.status_code == 200


def test_never_for_post(client: Client) -> None:
    etag = client.get("/api/products").headers["ETag"]
    response = client.post("/api/products", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "ETag" not in response.headers
    assert response.json == {"created": 1}


def test_a_stream_gets_no_etag_and_an_error_is_left_alone(client: Client) -> None:
    streamed = client.get("/api/streamed", headers={"If-None-Match": '"ab"'})
    assert (streamed.status_code, streamed.data) == (200, b"ab")
    assert "ETag" not in streamed.headers
    # "*" is any version at all, tagged or not.
    assert client.get("/api/streamed", headers={"If-None-Match": "*"}).status_code == 304
    missing = client.get("/api/missing", headers={"If-None-Match": "*"})
    assert missing.status_code == 404 and "ETag" not in missing.headers
