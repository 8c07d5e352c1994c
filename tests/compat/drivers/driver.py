"""What every driver does around its client: JSON in from argv[1], log, one JSON line out.

Drivers run as scripts in a client library's own environment, so this file is imported
from the script's folder (Python puts it first on sys.path).
"""

import asyncio
import inspect
import json
import logging
import sys
from collections.abc import Callable
from typing import Any


def main(run: Callable[[dict], Any]) -> None:
    """Call `run(args)` (a function or a coroutine function); print its result as JSON.

    The client's log goes to stderr, which the test attaches to any failure.
    """
    args = json.loads(sys.argv[1])
    logging.basicConfig(
        stream=sys.stderr, level=logging.DEBUG, format="%(asctime)s %(levelname)s %(message)s"
    )
    result = run(args)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    print(json.dumps(result))
