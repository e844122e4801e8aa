"""Albums: collections of assets, shared with contributors and viewers."""
