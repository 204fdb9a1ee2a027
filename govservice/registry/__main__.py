"""`python -m govservice.registry --port 5002`: the development registry over HTTP."""

import argparse

from werkzeug.serving import run_simple

from .devserver import create_registry_app

parser = argparse.ArgumentParser(description="Development population and legal-person registry (HTTP).")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=5002)
parser.add_argument("--token", default="", help="require this bearer token")
parser.add_argument("--generated", type=int, default=1000, help="how many generated people besides the demo ones")
args = parser.parse_args()
run_simple(args.host, args.port, create_registry_app(token=args.token, generated=args.generated), threaded=True)
