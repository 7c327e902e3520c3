"""The credentials vault: its cryptography (pure) and its HTTP routes."""
