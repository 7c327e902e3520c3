"""Who may do what: API keys and principals, the admin key routes and the `tidemark-keys`
and key-bootstrap commands, introspection for the other services."""
