"""The signed-in user's settings: password (/account/password) and API keys (/account/api-keys)."""
