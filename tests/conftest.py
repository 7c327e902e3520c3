"""Test-wide configuration. Server fixtures (Kafka, Postgres, SMTP, services) live in
tests/fixtures/infra.py and start only when a test asks for them."""

pytest_plugins = [
    "tests.fixtures.infra",
    "tests.fixtures.access",
    "tests.fixtures.system",
]
