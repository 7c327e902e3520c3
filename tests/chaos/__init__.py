"""The chaos run (issue 19): the whole system under load while its parts fail."""
