"""A stand-in benchmark section that reports only by printing, as most sections still do."""


def main() -> None:
    print("== a table ==")
    print("figure one:   12 req/s")
