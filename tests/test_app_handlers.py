"""The app end to end, in-process: what a handler is given and what it
gives back (README, "The request and the response"): request bodies and their
limits, the path's params, the signatures a handler may have, cookies.

Requests are sent as in test_app.py: through `validator`, buffered.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from helpers import SITE, MiB, error_message, fetch, unread_body
from microroute import App

# -- request bodies --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "length", "status"),
    [
        ({}, MiB + 1, 413),
        ({}, MiB, 200),
        ({"max_body_size": 10}, 11, 413),
        ({"max_body_size": 10}, 10, 200),
    ],
)
def test_body_size_is_judged_from_content_length_without_reading_the_body(
    make_client: Callable[..., Client], options: dict[str, int], length: int, status: int
) -> None:
    client = make_client(SITE, **options)
    if status == 413:
        response = fetch(client, "POST", "/api/upload", environ_overrides=unread_body(length))
        error_message(response, 413)
    else:
        response = fetch(client, "POST", "/api/upload", data=b"x" * length)
        assert (response.status_code, response.data) == (200, b"accepted")


def test_a_body_shorter_than_its_content_length_is_a_400_before_the_handler_runs(
    make_client: Callable[..., Client],
) -> None:
    # The client went away mid-upload: the handler must not run on half a body.
    client = make_client({
        "api/upload/route.py": """
            def POST():
                raise AssertionError("the handler ran")  # it would be a 500
        """,
    })
    short = {"wsgi.input": io.BytesIO(b"only part"), "CONTENT_LENGTH": "100"}
    response = fetch(client, "POST", "/api/upload", environ_overrides=short)
    assert "ended after 9 of 100 bytes" in error_message(response, 400)


@pytest.mark.parametrize("length", ["abc", "-1", "1.5", " 12"])
def test_an_invalid_content_length_is_a_400(tree: Callable[..., Path], length: str) -> None:
    # Not validated: wsgiref.validate itself refuses such a CONTENT_LENGTH, but a
    # server may pass one along, and the app must answer it.
    client = Client(App(tree(SITE)))
    response = fetch(client, "POST", "/api/upload", environ_overrides={"CONTENT_LENGTH": length})
    assert "Content-Length" in error_message(response, 400)


def test_request_json_returns_the_body(site: Client) -> None:
    response = fetch(site, "POST", "/api/products", json={"name": "Mouse", "price": 25})
    assert response.status_code == 201
    assert response.content_type == "application/json"
    assert response.get_json() == {"created": {"name": "Mouse", "price": 25}}


@pytest.mark.parametrize(
    ("body", "says"),
    [(b'{"name": ', "Malformed JSON"), (b"not json", "Malformed JSON"), (b"", "empty"),
     (b"  \n", "empty")],
)
def test_a_body_that_is_not_json_is_a_400(site: Client, body: bytes, says: str) -> None:
    response = fetch(site, "POST", "/api/products", data=body, content_type="application/json")
    assert says in error_message(response, 400)


def test_malformed_multipart_form_data_is_a_400(site: Client) -> None:
    response = fetch(
        site, "POST", "/api/form",
        data=b"this is not multipart", content_type="multipart/form-data; boundary=xyz",
    )
    assert "form data" in error_message(response, 400)


def test_a_well_formed_form_is_parsed(site: Client) -> None:
    response = fetch(site, "POST", "/api/form", data={"name": "Mouse"})
    assert response.get_json() == {"name": "Mouse"}


# -- the path and its params -----------------------------------------------------


@pytest.mark.parametrize(
    ("target", "params"),
    [
        ("/items/42", {"id": "42"}),
        ("/items/a%2Fb", {"id": "a/b"}),
        ("/items/%2541", {"id": "%41"}),
        ("/items/caf%C3%A9", {"id": "café"}),
        ("/blog/a", {"slug": ["a"]}),
        ("/blog/a/b/c", {"slug": ["a", "b", "c"]}),
        ("/docs", {}),
        ("/docs/a/b", {"slug": ["a", "b"]}),
        ("/cart", {}),
        ("/_next", {}),
        ("/hello%20world", {}),
        ("/x/b", {"a": "x"}),
        ("/x/1/deep", {"c": "1"}),
    ],
)
def test_params_reach_the_handler(site: Client, target: str, params: dict[str, Any]) -> None:
    response = fetch(site, "GET", target)
    assert response.status_code == 200, response.data
    assert response.get_json()["params"] == params


@pytest.mark.parametrize(
    "path",
    ["/_lib/x", "/_lib/helpers.py", "/api/products/route.py", "/about/page.py", "/(shop)/cart",
     "/blog", "/x/1"],
)
def test_private_folders_files_and_partial_paths_are_never_served(site: Client, path: str) -> None:
    error_message(fetch(site, "GET", path), 404)


def test_a_malformed_escape_in_the_path_is_a_400(site: Client) -> None:
    assert "%ZZ" in error_message(fetch(site, "GET", "/items/%ZZ"), 400)


SIGNATURE_ROUTE = """
import asyncio
from microroute import Response

{define}
    {pause}
    return Response.json({result})
"""


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async-def"])
@pytest.mark.parametrize(
    ("parameters", "result", "expected"),
    [
        ("()", '{"arguments": 0}', {"arguments": 0}),
        ("(request)", '{"path": request.path}', {"path": "/sig/7"}),
        ("(request, params)", '{"path": request.path, **params}', {"path": "/sig/7", "id": "7"}),
    ],
)
def test_handlers_are_called_as_their_signature_asks(
    make_client: Callable[..., Client], asynchronous: bool, parameters: str, result: str,
    expected: dict[str, Any],
) -> None:
    source = SIGNATURE_ROUTE.format(
        define=f"{'async def' if asynchronous else 'def'} GET{parameters}:",
        pause="await asyncio.sleep(0)" if asynchronous else "pass",
        result=result,
    )
    client = make_client({"sig/[id]/route.py": source})
    response = fetch(client, "GET", "/sig/7")
    assert response.status_code == 200, response.data
    assert response.get_json() == expected


def test_cookies_set_by_a_handler_come_back_as_set_cookie(site: Client) -> None:
    cookies = fetch(site, "GET", "/cookies").headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("session=abc;") and "HttpOnly" in cookies[0]
    assert cookies[1].startswith("theme=dark;")
