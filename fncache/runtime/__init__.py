"""Compiled functions at run time: shared variables, input checks, linkers, pickling."""
