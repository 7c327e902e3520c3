"""The SLA board (issue 20): a live page of the queues for supervisors and agents.
Wired by the app with routes.install_board; the consumer feeds projection.on_event."""
