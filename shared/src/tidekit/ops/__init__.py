"""`tidemark-ops`: the operator's console over every service's Kafka topics and event store.

It lives in tidekit (not in a package of its own under deploy/) because everything it
needs is here: the settings every service reads, `KafkaConnection`, the topic names, the
CloudEvents envelope and the event store's row format. It imports no service package: it
reads the services' schemas (`<service>.events`, named as the services name them) and the
Kafka topics directly, so it keeps working when a service's code is not installed.
"""
