"""What the product routes and the products page check before asking the store.

Each function reads one thing from a request (an id from the URL, a page of
the list from the query string, a product from the JSON body, the admin
token from a header) and returns it as plain values for the store, or raises
the `HTTPError` that tells the client what was wrong:

    identifier = product_id(params)       # "42" -> 42; "abc" -> 404
    product = fields_of(request)          # {"name": ..., "price": ...}; bad -> 422
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from typing import Any, TypeVar

from microroute import HTTPError, Request

ADMIN_TOKEN_ENV = "MICROROUTE_DEMO_ADMIN_TOKEN"
MAX_NAME = 200
# A longer q could match no name; and SQLite refuses a LIKE pattern over 50,000
# bytes ("LIKE or GLOB pattern too complex"), which would be a 500.
MAX_QUERY = MAX_NAME
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
NAME_RULE = f"must be a string of 1 to {MAX_NAME} characters"
PRICE_RULE = "must be an integer ≥ 0"
MAX_PRICE = 2**63 - 1  # SQLite's largest integer

T = TypeVar("T")


def product_id(params: dict[str, str]) -> int:
    """The id in the URL; anything that is not a product id is simply not found."""
    text = params["id"]
    # SQLite integers are 64-bit: a longer number cannot be an id.
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise HTTPError(404, f"No product {text!r}.")
    return int(text)


def found(result: T | None, identifier: int) -> T:
    """What the store gave back for this id; nothing (None, or False from a
    delete) means there is no such product: a 404."""
    if not result:
        raise HTTPError(404, f"No product {identifier}.")
    return result


# -- the query string: a page of the list -------------------------------------


def page_of(request: Request) -> dict[str, Any]:
    """`?q=` (at most 200 characters), `?limit=` (1 to 200, default 50),
    `?offset=` (0 or more) and `?order=` (`oldest`, the default, or `newest`),
    as the store's `list_products` takes them."""
    q = request.query.get("q") or None
    if q is not None and "\0" in q:
        # SQLite's LIKE would end the pattern there: `?q=%00` would match everything.
        raise HTTPError(400, "q must not contain a NUL character.")
    if q is not None and len(q) > MAX_QUERY:
        raise HTTPError(400, f"q must be at most {MAX_QUERY} characters (no name is longer),"
                             f" not {len(q)}.")
    order = request.query.get("order", "oldest")
    if order not in ("oldest", "newest"):
        raise HTTPError(400, f"order must be 'oldest' or 'newest', not {order!r}.")
    return {
        "q": q,
        "limit": _whole_number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        "offset": offset_of(request),
        "newest_first": order == "newest",
    }


def offset_of(request: Request) -> int:
    """`?offset=`: how many products to skip, 0 or more (default 0)."""
    return _whole_number(request, "offset", 0, 0, None)


def _whole_number(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    value = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of {low} or more"
        raise HTTPError(400, f"{name} must be a whole number {bounds}, not {text!r}.")
    return value


# -- the JSON body: a product -------------------------------------------------


def _name(value: object) -> str:
    """A product's name, trimmed; a `ValueError` names the rule it breaks."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_NAME:
        raise ValueError(NAME_RULE)
    try:
        value.encode()  # JSON's "\ud800" is no text SQLite or PostgreSQL could store
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    if "\0" in value:  # SQLite's text functions would stop there
        raise ValueError("must not contain a NUL character")
    return value.strip()


def _price(value: object) -> int:
    """A price in cents; a `ValueError` names the rule it breaks."""
    # bool is an int in Python, but `true` is no price.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(PRICE_RULE)
    if value > MAX_PRICE:
        raise ValueError(f"must be at most {MAX_PRICE}")
    return value


# Each field a product has, and what checks it (in the order problems are named).
FIELDS: dict[str, Callable[[object], Any]] = {"name": _name, "price": _price}


def fields_of(request: Request, *, partial: bool = False) -> dict[str, Any]:
    """The product fields in the JSON body, checked; 422 with each problem named.

    `partial` (PATCH) accepts any non-empty subset of the fields.
    """
    body = request.json()  # malformed JSON: the framework's 400
    if not isinstance(body, dict):
        # A list or a number has none of the fields: name each, as for `{}`.
        raise HTTPError(422, "The body must be a JSON object with name and price.",
                        details={"fields": {"name": NAME_RULE, "price": PRICE_RULE}})
    names = [name for name in FIELDS if name in body or not partial]
    if not names:
        raise HTTPError(422, "Give at least one of: name, price.")
    fields: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in names:
        try:
            fields[name] = FIELDS[name](body.get(name))
        except ValueError as problem:
            problems[name] = str(problem)
    if problems:
        summary = "; ".join(f"{name} {problem}" for name, problem in problems.items())
        raise HTTPError(422, f"Invalid product: {summary}.", details={"fields": problems})
    return fields


# -- the Authorization header: the admin token --------------------------------


def require_admin(request: Request) -> None:
    """When an admin token is configured, only a request that carries it may pass.

    The token lives in the server's environment and is compared in constant
    time; it is never echoed back, logged or sent to a page.
    """
    token = os.environ.get(ADMIN_TOKEN_ENV)
    if not token:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPError(401, "This needs the admin token: Authorization: Bearer <token>.",
                        {"WWW-Authenticate": "Bearer"})
