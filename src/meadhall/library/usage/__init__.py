"""Storage used: how much each user keeps in the Library, and how full the disk is."""
