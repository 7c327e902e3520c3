"""How a service handles a message: a unit of work, a handler registry, a bus for commands.

`uow` (one transaction, buffered event writes, after-commit callbacks), `registry` (which
function handles which command or event) and `bus` (a command through the retry policy in
a fresh unit of work). The Kafka consumer runs the same handlers with the same unit of work
on its batch's connection.
"""
