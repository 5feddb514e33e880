"""What the product routes share: input checks, the store, and the admin token.

A private folder (`_lib`) is never routed; route files reach it with a
relative import: `from .._lib.products import ...`.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from demo_app.store import default_store
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


def store():
    return default_store()


def product_id(params: dict[str, Any]) -> int:
    """The id in the URL; anything that is not a product id is simply not found."""
    text = params["id"]
    # SQLite integers are 64-bit: a longer number cannot be an id.
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise HTTPError(404, f"No product {text!r}.")
    return int(text)


def found(result: Any, identifier: int) -> Any:
    """What the store gave back for this id; nothing (None, or False from a
    delete) means there is no such product: a 404."""
    if not result:
        raise HTTPError(404, f"No product {identifier}.")
    return result


def page_of(request: Request) -> dict[str, Any]:
    """`?q=` (at most 200 characters), `?limit=` (1 to 200, default 50),
    `?offset=` (0 or more) and `?order=` (`oldest`, the default, or `newest`)."""
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


def fields_of(request: Request, *, partial: bool = False) -> dict[str, Any]:
    """The product fields in the JSON body, checked; 422 with each problem named.

    `partial` (PATCH) accepts any non-empty subset of the fields.
    """
    body = request.json()  # malformed JSON: the framework's 400
    if not isinstance(body, dict):
        # A list or a number has none of the fields: name each, as for `{}`.
        raise HTTPError(422, "The body must be a JSON object with name and price.",
                        details={"fields": {"name": NAME_RULE, "price": PRICE_RULE}})
    problems: dict[str, str] = {}
    fields: dict[str, Any] = {}
    if "name" in body or not partial:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
            problems["name"] = NAME_RULE
        elif not _is_utf8(name):  # JSON's "\ud800": SQLite could not store it
            problems["name"] = "must be valid Unicode text (no lone surrogates)"
        elif "\0" in name:  # SQLite's text functions would stop there
            problems["name"] = "must not contain a NUL character"
        else:
            fields["name"] = name.strip()
    if "price" in body or not partial:
        price = body.get("price")
        # bool is an int in Python, but `true` is no price.
        if not isinstance(price, int) or isinstance(price, bool) or price < 0:
            problems["price"] = PRICE_RULE
        elif price > MAX_PRICE:
            problems["price"] = f"must be at most {MAX_PRICE}"
        else:
            fields["price"] = price
    if partial and not problems and not fields:
        raise HTTPError(422, "Give at least one of: name, price.")
    if problems:
        raise _invalid(problems)
    return fields


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _invalid(problems: dict[str, str]) -> HTTPError:
    summary = "; ".join(f"{field} {problem}" for field, problem in problems.items())
    return HTTPError(422, f"Invalid product: {summary}.", details={"fields": problems})


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
