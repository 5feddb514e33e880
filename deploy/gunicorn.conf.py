"""gunicorn's settings for one machine behind the load balancer (deploy/nginx.conf).

    gunicorn -c deploy/gunicorn.conf.py demo_app:app
    gunicorn -c deploy/gunicorn.conf.py --bind 10.0.0.5:8000 demo_app:app   # flags win

Each setting is explained in the README ("Deploying"). The tests start every
gunicorn behind nginx with this file, as it is, giving only --bind and --workers.

gunicorn, because it passes the raw request target: `%2F` stays inside its
segment, `%ZZ` is a 400. granian (`granian --interface wsgi demo_app:app`)
answered about 6 times as many requests per second on this project's
benchmark (benchmarks/README.md) but decodes the path before the app sees it;
pick it when throughput per machine matters more than ids with `/` or `%`.
"""

import os

# Where nginx reaches this machine. On a machine of its own: its private address.
bind = os.environ.get("MICROROUTE_BIND", "127.0.0.1:8000")

# Sync workers: one request at a time each, which is all they need behind
# nginx, which reads slow requests and writes slow answers for them. Two per
# core plus one keeps the cores busy while some workers wait on the database.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))

# A worker silent for 30 s is killed and replaced; on a restart, workers get
# 10 s to finish the request in hand.
timeout = 30
graceful_timeout = 10

# Only nginx may say what the client's scheme was: X-Forwarded-Proto is obeyed
# from these addresses (the load balancer's), and ignored from anyone else.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# ...and only the one header nginx sets. gunicorn's default also obeys
# X-Forwarded-Ssl and X-Forwarded-Protocol, which nginx passes through from
# the client untouched: a client could claim https through the proxy.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# No header may set SCRIPT_NAME or PATH_INFO, not even the proxy's: a mount
# prefix, if any, is set here (the SCRIPT_NAME environment variable), never
# taken from a request.
forwarder_headers = ""
# Header names with "_" (SCRIPT_NAME: /x) are dropped, not mapped onto
# HTTP_SCRIPT_NAME where they would pass for the hyphenated header.
header_map = "drop"

# The demo's database is opened per worker, after the fork (demo_app/store.py,
# demo_app/postgres_store.py); loading the app before the fork would gain little.
preload_app = False
