"""Benchmark of electronic certificates: QR-token verification and signed issuance.

    make bench                      # or: .venv/bin/python bench/certificates.py [--seconds 3] [--issue 20]

Prints, for the same token bytes:
  * raw ES256 verification with the `cryptography` library (the floor: one ECDSA P-256 verify);
  * the platform's in-process token verification (TokenKeyStore.verify: parsing, header checks,
    key lookup, joserfc verification), and the ratio to the floor;
  * the full check behind the public page / API without HTTP (services.check_token: the
    above plus the database look-up and status), and with logging (services.verify_token:
    plus a Verification row, an audit entry and a commit);
and signed-certificate issuance per second (render the PDF with its QR, PAdES-sign it, sign
two tokens, store the blob, write the rows). Runs on a throw-away SQLite instance in a
temporary folder (or DATABASE_URL if set); it is not part of the test suite.
"""
from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402
from cryptography.hazmat.primitives.serialization import load_pem_public_key  # noqa: E402


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def rate(fn, seconds: float) -> tuple[float, int]:
    """Calls per second of fn() over about `seconds` (after a short warm-up)."""
    for _ in range(20):
        fn()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            fn()
        count += 50
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per verification measurement")
    parser.add_argument("--issue", type=int, default=20, help="certificates to issue for the issuance rate")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="govservice-bench-")
    os.environ.setdefault("GOVSERVICE_INSTANCE", folder)
    from govservice import create_app, demo, migrate
    from govservice.certificates import services
    from govservice.certificates.demo import _person
    from govservice.extensions import db

    app = create_app({
        "INSTANCE_DIR": folder, "BLOB_DIR": f"{folder}/blobs", "PUBLIC_URL": "http://127.0.0.1:5000",
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite",
        "RATELIMIT_ENABLED": False, "SERVER_NAME": "127.0.0.1:5000",
    })
    with app.app_context():
        migrate.upgrade()
        demo.load(certificates=False)
        holder = _person("110105198802150035", "张三")
        data = {"credit_code": "92110105MA00000017", "business_name": "北京市朝阳区张三便利店",
                "business_type": "个体工商户", "operator_name": "张三", "operator_id_number": "110105198802150035",
                "composition": "个人经营", "address": "北京市朝阳区示例路8号", "scope": "日用百货零售",
                "registered_on": "2026-11-23"}
        certificate = services.issue("yyzz", holder, data)  # warm-up: fonts, keys, PKI
        token = certificate.token
        store = services.key_store()

        # the same bytes, verified raw with cryptography
        header, payload, signature = token.split(".")
        signing_input = f"{header}.{payload}".encode("ascii")
        raw = _b64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        # the active key's public half, as cryptography wants it
        public = load_pem_public_key(store._keys()[0].public.as_pem())
        algorithm = ec.ECDSA(hashes.SHA256())

        def raw_verify():
            public.verify(der, signing_input, algorithm)

        def store_verify():
            store.verify(token)

        def check():
            assert services.check_token(token)[0] == "valid"

        def logged():
            assert services.verify_token(token, channel="page", verifier="bench")[0] == "valid"

        print(f"token: {len(token)} characters, ES256, kid {store.active_kid[:12]}…; "
              f"database: {db.engine.dialect.name}")
        results = {}
        for name, fn, seconds in (("raw ES256 verify (cryptography)", raw_verify, args.seconds),
                                  ("token verify (TokenKeyStore.verify)", store_verify, args.seconds),
                                  ("token check + DB status (check_token)", check, args.seconds),
                                  ("token check, logged + committed (verify_token)", logged, args.seconds)):
            per_second, count = rate(fn, seconds)
            results[name] = per_second
            print(f"  {name:50s} {per_second:10.0f}/s  ({1e6 / per_second:8.1f} µs each, {count} calls)")
        floor = results["raw ES256 verify (cryptography)"]
        print("ratios to raw ES256 (how many raw verifies fit in one):")
        for name, per_second in results.items():
            print(f"  {name:50s} {floor / per_second:6.2f}x")

        start = time.perf_counter()
        for _ in range(args.issue):
            services.issue("yyzz", holder, data)
        elapsed = time.perf_counter() - start
        print(f"signed-certificate issuance (PDF + QR + PAdES + 2 tokens + store + commit): "
              f"{args.issue / elapsed:.1f}/s ({1000 * elapsed / args.issue:.0f} ms each, {args.issue} certificates)")
        logged_rate = results["token check, logged + committed (verify_token)"]
        print(f"one issuance takes as long as {logged_rate * elapsed / args.issue:.0f} logged verifications "
              f"or {floor * elapsed / args.issue:.0f} raw ES256 verifies")
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
