"""Search helpers: the values the search page offers in its camera and place filters."""
