"""A tiny wing for the tests: everything a wing can bring, in one folder of its own."""
