"""Tags: each owner's own labels, applied to their own assets."""
