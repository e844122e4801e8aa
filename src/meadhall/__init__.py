"""Meadhall: a self-hosted home for a tabletop gaming group."""

__version__ = "0.1.0"
