"""Durable background jobs: a ``jobs`` table people can see, delivered by Procrastinate."""
