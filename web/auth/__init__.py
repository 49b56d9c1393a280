"""Sign-in: who is making the request (identity.py), CSRF (csrf.py), and the pages
/login, /logout, /lang (views.py)."""
