"""The `inverter` interface library of sungrow-sim-k8s, under a regular package name.

`sungrow_sim_k8s_lib.inverter` is the same file as the Charmhub-style
`charms/sungrow_sim_k8s/v0/inverter.py` (vendor that one into a charm's lib/, or install
this package; see docs/requirer.md). A regular package, so a charm's own
`lib/charms/__init__.py` cannot hide it.
"""
