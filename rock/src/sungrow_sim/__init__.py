"""A simulated Sungrow solar inverter."""

__version__ = "0.1.0"
