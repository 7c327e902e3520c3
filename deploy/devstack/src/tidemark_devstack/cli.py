"""`tidemark-devstack install | run | stop`: the entry points behind make setup/run/stop."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from tidemark_devstack.common import (
    DevstackError,
    port_for,
    progress,
    read_pidfile,
    state_dir,
    stop_pid,
)
from tidemark_devstack.kafka import install_jars, kafka_version
from tidemark_devstack.services import SERVICES, create_api_key
from tidemark_devstack.stack import Ports, Stack


def default_stack() -> Stack:
    ports = Ports(
        kafka=port_for("kafka"),
        kafka_controller=port_for("kafka-controller"),
        postgres=port_for("postgres"),
        smtp_sink=port_for("smtp-sink"),
        intake_smtp=port_for("intake-smtp"),
        services={name: port_for(name) for name in SERVICES},
    )
    return Stack(state_dir(), ports)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def print_table(stack: Stack, failed: dict[str, str | None]) -> None:
    rows = [
        ("PostgreSQL", stack.database_url, str(stack.postgres.log_file)),
        ("Kafka", stack.kafka.bootstrap, str(stack.kafka.log_file)),
        ("SMTP sink", f"smtp://127.0.0.1:{stack.ports.smtp_sink}", f"mail: {stack.mail_dir}/new"),
    ]
    for name, proc in stack.services.items():
        state = "FAILED" if failed.get(name) else "up"
        rows.append((f"{name} ({state})", proc.url, str(proc.log_file)))
    rows.append(("intake SMTP in", f"smtp://127.0.0.1:{stack.ports.intake_smtp}", ""))
    width = max(len(r[0]) for r in rows)
    url_width = max(len(r[1]) for r in rows)
    print(f"\n{'what':<{width}}  {'listens on':<{url_width}}  logs", flush=True)
    for what, where, logs in rows:
        print(f"{what:<{width}}  {where:<{url_width}}  {logs}", flush=True)


def ensure_dev_keys(stack: Stack) -> Path:
    """A frontend key for every channel and an admin key, made once per state folder with
    `tidemark-keys` and kept (mode 600) in <state>/dev-keys.env for curl and local frontends."""
    path = stack.root / "dev-keys.env"
    if path.exists():
        return path
    url = stack.database_url
    web = create_api_key(url, "--name", "dev-frontend", "--channels", "web,email,in_product,chat")
    admin = create_api_key(url, "--name", "dev-admin", "--role", "admin")
    path.touch(mode=0o600)
    path.write_text(f"TIDEMARK_WEB_KEY={web}\nTIDEMARK_ADMIN_KEY={admin}\n")
    return path


def cmd_run(args: argparse.Namespace) -> int:
    stack = default_stack()
    pidfile = stack.run_dir / "devstack.pid"
    if read_pidfile(pidfile, expect="tidemark-devstack"):
        print(f"a dev stack already runs (pid file {pidfile}); `make stop` first", file=sys.stderr)
        return 1
    stack.run_dir.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{os.getpid()}\n")
    # Explicit: a shell starts background jobs with SIGINT ignored, and Python keeps that.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    began = time.monotonic()
    try:
        stack.start_infra()
        names = [n for n in SERVICES if n not in (args.without or [])]
        progress(f"starting services: {', '.join(names)}")
        failed = stack.start_services(names, timeout=args.service_timeout)
        for name, error in failed.items():
            if error:
                print(f"\n!! {name} did not start:\n{error}\n", file=sys.stderr, flush=True)
        print_table(stack, failed)
        if "intake" in names and failed.get("intake") is None:
            keys_file = ensure_dev_keys(stack)
            print(f"\ndevelopment API keys (web frontend, admin): {keys_file}", flush=True)
        ok = sum(1 for e in failed.values() if e is None)
        print(f"\nup in {time.monotonic() - began:.1f}s ({ok}/{len(failed)} services healthy); "
              f"state in {stack.root}; Ctrl-C stops everything", flush=True)  # fmt: skip
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n==> stopping (services, then Kafka, then PostgreSQL)…", flush=True)
    except DevstackError as exc:
        print(f"\n!! {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        pidfile.unlink(missing_ok=True)
        progress("stopped")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    stack = default_stack()
    pid = read_pidfile(stack.run_dir / "devstack.pid", expect="tidemark-devstack")
    if pid:
        progress(f"stopping the running dev stack (pid {pid})…")
        stop_pid(pid, timeout=90)
    stopped = stack.stop_leftovers()
    (stack.run_dir / "devstack.pid").unlink(missing_ok=True)
    progress("stopped " + (", ".join(stopped) if stopped else "everything") if pid or stopped
             else "nothing was running")  # fmt: skip
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    libs = install_jars(state_dir() / "kafka" / "libs")  # says so when it downloads
    if not args.quiet:
        progress(f"Kafka {kafka_version()} jars in {libs}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tidemark-devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    install = sub.add_parser("install", help="fetch the Kafka jars (once)")
    install.add_argument("--quiet", action="store_true")
    install.set_defaults(func=cmd_install)
    run = sub.add_parser("run", help="start everything in the foreground; Ctrl-C stops it")
    run.add_argument("--without", action="append", choices=sorted(SERVICES),
                     help="do not start this service (repeatable)")  # fmt: skip
    run.add_argument("--service-timeout", type=float, default=60.0)
    run.set_defaults(func=cmd_run)
    stop = sub.add_parser("stop", help="stop what a `run` left running")
    stop.set_defaults(func=cmd_stop)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except DevstackError as exc:
        print(f"!! {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
