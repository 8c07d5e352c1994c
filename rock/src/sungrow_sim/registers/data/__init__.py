"""Packaged data files: the model and register catalogue."""
