"""The formula language (work in progress: the public API is assembled here)."""
