"""Ingest: every way a file enters the library (upload, resumable upload, URL, folder, CLI).

All of them end in :func:`meadhall.library.ingest.service.ingest_file`, so every asset is
created, deduplicated, stored and queued for processing the same way.
"""
