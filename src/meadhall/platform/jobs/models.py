"""Job tables (the jobs work fills this in)."""
