"""Allow `python -m sungrow_sim`."""

from sungrow_sim.cli import main

raise SystemExit(main())
