"""``python -m custml.cli ...``: the ``custml`` command without its console script (e.g. another interpreter)."""

from custml.cli import run

run()
