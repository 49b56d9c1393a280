"""The compiled app: an app definition worked out once (engine/compiled/app.py)."""
