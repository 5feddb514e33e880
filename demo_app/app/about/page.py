"""GET /about : a page is a function named Page that returns HTML."""


def Page():
    return """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>About</title></head>
<body>
  <h1>About</h1>
  <p>This demo is served by microroute: folders are URLs, <code>route.py</code>
  files are APIs, <code>page.py</code> files are pages.</p>
  <p><a href="/">Home</a></p>
</body>
</html>
"""
