"""The HTML 404 for any path the demo does not serve, inside the root layout.

API clients (anything not asking for HTML) still get `{"error": "Not Found"}`.
"""

from html import escape

from microroute import Request


def NotFound(request: Request) -> str:
    return f"""<h1>Not found</h1>
<p>Nothing lives at <code>{escape(request.path)}</code>.</p>
<p><a href="/">Back to the home page</a></p>"""
