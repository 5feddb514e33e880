"""GET /about : a page is a function named Page that returns HTML.

Only the page's own part: `app/layout.py` wraps it in the document, with the
stylesheet from `demo_app/public/`.
"""


def Page() -> str:
    return """<h1>About</h1>
<p>This demo is served by microroute: folders are URLs, <code>route.py</code>
files are APIs, <code>page.py</code> files are pages, and the files in
<code>demo_app/public/</code> (the stylesheet, the products script, the
favicon) are served as they are.</p>"""
