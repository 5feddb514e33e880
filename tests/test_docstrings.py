"""The public surface teaches: every public name has a docstring with an example.

The public surface is what `microroute` exports (`__all__`: `App`,
`HTTPError`, `Request`, `Response`, `RouteError`), with the methods and
properties of each, `__call__` included, and what the README teaches to
import besides (`loops.run`, `loops.per_loop`, `loops.to_thread`, and
`FileBody`). An example is a `>>>` line or a line of code indented in the
docstring, as `help()` and an editor's hover show it:

    def body(self) -> bytes:
        \"\"\"The raw body, read once.

            request.body()   # b'{"name": "Monitor"}'
        \"\"\"
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

import microroute
from microroute import loops
from microroute.response import FileBody

TAUGHT_BESIDES = {
    "loops.run": loops.run,
    "loops.per_loop": loops.per_loop,
    "loops.to_thread": loops.to_thread,
    "FileBody": FileBody,
}


def public_surface() -> Iterator[tuple[str, object]]:
    """`("Request.json", Request.json)`, for every public name and its members."""
    classes = {name: getattr(microroute, name) for name in microroute.__all__}
    classes = {name: value for name, value in classes.items() if inspect.isclass(value)}
    assert sorted(classes) == ["App", "HTTPError", "Request", "Response", "RouteError"]
    yield from TAUGHT_BESIDES.items()
    for name, cls in {**classes, "FileBody": FileBody}.items():
        yield name, cls
        for member, value in vars(cls).items():
            if member.startswith("_") and member != "__call__":
                continue
            if inspect.ismemberdescriptor(value):
                continue  # an attribute in __slots__: the class's docstring tells it
            yield f"{name}.{member}", value


def docstring(value: object) -> str:
    """The docstring of a function, method, property or class, as written."""
    function = getattr(value, "fget", None) or getattr(value, "func", None) or value
    function = getattr(function, "__func__", function)  # a classmethod's
    return getattr(function, "__doc__", None) or ""


def has_example(text: str) -> bool:
    """Whether a docstring, as written, shows a `>>>` line, or a line indented
    further than its prose (whose indentation is that of the closing quotes,
    on a line of their own, or else of its least indented line)."""
    if ">>>" in text:
        return True
    lines = text.expandtabs().split("\n")[1:]  # the first starts at the quotes
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    if not indents:
        return False
    prose = len(lines[-1]) if not lines[-1].strip() else min(indents)
    return max(indents) >= prose + 4


SURFACE = dict(public_surface())


def test_the_surface_is_what_the_readme_teaches() -> None:
    assert {"App.__call__", "App.handle", "Request.json", "Request.query",
            "Response.json", "Response.make_conditional", "loops.per_loop"} <= set(SURFACE)
    assert len(SURFACE) > 40


@pytest.mark.parametrize("name", sorted(SURFACE))
def test_every_public_name_has_a_docstring_with_an_example(name: str) -> None:
    text = docstring(SURFACE[name])
    assert text, f"{name} has no docstring"
    assert has_example(text), (
        f"{name}'s docstring shows no example: add an indented line of code "
        f"(or a >>> line) that uses it.\n---\n{text}"
    )


def test_an_example_is_told_from_prose() -> None:
    shown = '''Read the body.

            request.body()   # b'...'
        '''
    assert has_example(shown)
    assert has_example(">>> Response.json([]).status\n200")
    assert has_example("Response headers.\n\n    Headers({'Vary': 'Accept'})\n")
    assert not has_example("Read the body, once: `request.body()`.")
    assert not has_example("Read the body,\n        once: `request.body()`.\n        ")
    assert not has_example("Read the body,\n    once, and keep it.")
    assert not has_example("")
