"""Logs, health and Prometheus metrics."""
