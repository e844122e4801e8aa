"""Shared machinery every wing stands on: database, accounts, jobs, events, errors."""
