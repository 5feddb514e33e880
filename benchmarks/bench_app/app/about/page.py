"""GET /about: a small HTML page."""


def Page():
    return "<!doctype html><title>About</title><h1>About</h1>"
