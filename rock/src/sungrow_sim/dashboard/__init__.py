"""The browser dashboard: static files and live feeds on the control listener."""

from sungrow_sim.dashboard.routes import STATIC_FILES, Dashboard, mount

__all__ = ["STATIC_FILES", "Dashboard", "mount"]
