"""The import wizard of a form (views.py) and the state of its runs (runs.py)."""
