"""Pages of the app for signed-in users: the home page (views.py); form, data and record
pages join this area (or an area of their own, see docs/web.md)."""
