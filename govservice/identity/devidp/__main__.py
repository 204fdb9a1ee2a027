"""`python -m govservice.identity.devidp --port 5001 --issuer http://127.0.0.1:5001 --instance instance`."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from . import create_idp_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m govservice.identity.devidp",
        description="Development OpenID Connect provider with demo identities. Never use it in production.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5001, help="port to listen on (default 5001)")
    parser.add_argument("--issuer", help="issuer URL, without trailing slash (default http://HOST:PORT)")
    parser.add_argument("--instance", default="instance", help="instance directory holding keys and secrets")
    parser.add_argument(
        "--subject-prefix",
        default="dev-",
        help="prefix of the subjects (another prefix, issuer and instance: a second provider)",
    )
    args = parser.parse_args(argv)
    app = create_idp_app(
        args.issuer or f"http://{args.host}:{args.port}", args.instance, subject_prefix=args.subject_prefix
    )
    # Werkzeug's server directly, so FLASK_DEBUG in the environment cannot turn on the debugger.
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
