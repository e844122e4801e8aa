"""Assets: list, get, edit, favourite, archive, trash, purge, files and random picks."""
