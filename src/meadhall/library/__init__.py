"""The Library: every picture the group owns — ingest, derivatives, metadata, tags, albums."""
