"""The HTML 500 for a page that fails, inside the root layout.

The exception itself is for the server's log, where microroute writes its
traceback: nothing of it is shown here, since an error message can hold
what a visitor should never see (a query, a path, a name).
"""

from microroute import Request


def Error(error: Exception, request: Request) -> str:
    return """<h1>Something went wrong</h1>
<p>The page could not be shown. The error is in the server's log; please try again later.</p>
<p><a href="/">Back to the home page</a></p>"""
