"""The root layout: every page of the demo inside one HTML document.

A page returns only what is its own (an `<h1>`, a list, a form); the
document around it, the stylesheet and favicon from `demo_app/public/`, and
the navigation are here, once. `request.path` marks the current page's link.
"""

from microroute import Request

NAV = [("/", "Home"), ("/products", "Products"), ("/about", "About")]


def Layout(children: str, request: Request) -> str:
    links = "\n".join(
        f'      <a href="{href}"{" aria-current=page" if request.path == href else ""}>{label}</a>'
        for href, label in NAV
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>microroute demo</title>
  <link rel="icon" href="/favicon.ico">
  <link rel="stylesheet" href="/styles.css">
</head>
<body>
  <header>
    <nav>
{links}
    </nav>
  </header>
  <main>
{children}
  </main>
  <footer>Served by microroute: every URL here is a folder in <code>demo_app/app/</code>.</footer>
</body>
</html>
"""
