"""Benchmark of the simulator against a bare pymodbus server (`tox -e bench`)."""
