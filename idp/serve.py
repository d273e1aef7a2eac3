"""The production server: granian (a Rust HTTP server) over the WSGI app, one worker process per core.

    python -m idp.serve [--host 127.0.0.1] [--port 5000] [--workers N] [--threads N] [--tls CERT KEY] [target]

`make run` starts it; the benchmark and the multi-process tests build their command lines with `command()`, so
all three run the same configuration. `make dev` keeps Flask's reloader for development.
"""

import argparse
import os
import sys

#: Python threads per worker that run requests. Requests mostly wait on the database or on the password hash
#: (which releases the GIL), so a few threads keep a core busy; more only add contention for the GIL.
THREADS = 4
#: seconds a worker may take to finish the requests in flight after SIGTERM/SIGINT before it is killed
SHUTDOWN_SECONDS = 30


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def command(
    target: str = "app:app",
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int | None = None,
    threads: int = THREADS,
    tls: tuple[str, str] | None = None,
    working_dir: str | None = None,
) -> list[str]:
    """granian's command line: WSGI interface, `workers` processes (default: one per core), no access log
    (logging every request costs more than some requests), graceful shutdown, crashed workers respawned."""
    args = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers or cores()),
        "--blocking-threads",
        str(threads),
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers-kill-timeout",
        str(SHUTDOWN_SECONDS),
        "--respawn-failed-workers",
    ]
    if tls:
        args += ["--ssl-certificate", tls[0], "--ssl-keyfile", tls[1]]
    if working_dir:
        args += ["--working-dir", working_dir]
    return args + [target]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m idp.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="?", default="app:app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("IDP_WORKERS", "0")) or None,
        help="worker processes (default: IDP_WORKERS, else one per core)",
    )
    parser.add_argument("--threads", type=int, default=THREADS, help="request threads per worker")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate and key")
    options = parser.parse_args(argv)
    args = command(
        options.target,
        options.host,
        options.port,
        options.workers,
        options.threads,
        tuple(options.tls) if options.tls else None,
    )
    os.execv(args[0], args)  # granian itself handles the signals: SIGTERM/SIGINT stop it gracefully


if __name__ == "__main__":
    main()
