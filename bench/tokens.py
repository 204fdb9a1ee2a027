"""In-process verification of a certificate's QR token against one raw ES256 verify of the same bytes.

    .venv/bin/python bench/tokens.py [--seconds 2] [--rounds 5]

For the same token, alternating A / B / A / B for `--rounds` rounds, the median of each:
  * raw: one ECDSA P-256 / SHA-256 verify with `cryptography` (the floor);
  * TokenKeyStore.verify: what the platform does with a token (parse, header checks, key look-up,
    canonical base64url, the signature, the claims);
  * verification.verify_token: the same plus the certificate's snapshot and the queued log entry
    (one Redis round trip with REDIS_URL; the database without it).
Prints the ratio raw time ÷ platform time (goal for the token check ≥ 0.7).
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402
from harness import Platform


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def per_second(fn, seconds: float) -> float:
    for _ in range(50):
        fn()
    count, start = 0, time.perf_counter()
    while True:
        for _ in range(100):
            fn()
        count += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    platform = Platform()
    from govservice.certificates import services, verification

    with platform.app.test_request_context("/v/bench"):
        certificate = platform.issue_certificate()
        token = certificate.token
        store = services.key_store()
        header, payload, signature = token.split(".")
        signing_input = f"{header}.{payload}".encode("ascii")
        raw = _b64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public = store._keys()[0].verifier
        algorithm = ec.ECDSA(hashes.SHA256())

        runs = {
            "raw ES256 verify (cryptography)": lambda: public.verify(der, signing_input, algorithm),
            "TokenKeyStore.verify": lambda: store.verify(token),
            "verification.verify_token (+ snapshot, log)": lambda: verification.verify_token(
                token, channel="page", verifier="bench"
            ),
        }
        samples = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, fn in runs.items():
                samples[name].append(per_second(fn, args.seconds))
        verification.flush()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["raw ES256 verify (cryptography)"]
    print(
        f"token verification ({len(token)}-character ES256 token, {args.rounds} rounds of {args.seconds:g} s, medians):"
    )
    for name, rate in medians.items():
        print(f"  {name:45s} {rate:9.0f}/s  {1e6 / rate:7.1f} µs  ratio to raw {rate / floor:.2f}")
    print(f"token verification ÷ raw ES256: {medians['TokenKeyStore.verify'] / floor:.2f} (goal ≥ 0.7)")
    platform.close()


if __name__ == "__main__":
    main()
