"""`python -m microroute ...`: the same as the `microroute` command."""

import sys

from .cli import main

sys.exit(main())
