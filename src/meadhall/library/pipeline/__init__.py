"""The processing pipeline: from a stored original to derivatives, metadata and scores.

Pure CPU modules (``decode``, ``derivatives``, ``metadata``, ``capture_time``, ``places``,
``colours``, ``hashes``, ``quality``, ``placeholder``, ``analysis``) never touch the database;
``service`` queues and records work, ``tasks`` holds the job kinds.
"""
