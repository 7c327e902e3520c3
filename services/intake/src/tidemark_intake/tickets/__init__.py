"""Tickets: the lifecycle (pure decide/evolve), the write paths (submission, commands), the
read model (projection, rebuild) and their HTTP routes."""
