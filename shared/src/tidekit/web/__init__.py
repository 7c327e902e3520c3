"""HTTP pieces every service shares: problem details, health, readiness and metrics."""
