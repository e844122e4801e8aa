"""The timeline: counts per local month, and the compact items of whole months."""
