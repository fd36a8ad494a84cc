"""Who is calling and what they may do: users, passwords, tokens, API keys and scopes.

The CLI and the API call the same functions here; both pass a database session and the
settings, and the functions raise ``CiftError`` subclasses that each front end renders.
"""
