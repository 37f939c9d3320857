#!/usr/bin/env python3
"""End-to-end check: Rust Signer -> Python verifier, and Rust Signer -> example
origin (SDK layer) -> captured headers -> Python verifier; replays refused.

Run from the repository root:  python3 tests/py/check_roundtrip.py
Needs `pip install -r tests/py/requirements.txt` and cargo. Prints `N passed, N failed`.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VERIFY = [sys.executable, os.path.join(HERE, "verify_capture.py")]
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")


def cargo(*args):
    return subprocess.run(["cargo", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def verify(capture):
    p = subprocess.run(VERIFY, input=json.dumps(capture), capture_output=True, text=True)
    return p.returncode, p.stdout.strip()


def send(addr, demo):
    url = demo["url"].replace("https://origin.example", f"http://{addr}")
    req = urllib.request.Request(url, method=demo["method"])
    for k, v in demo["headers"].items():
        req.add_header(k, v)  # includes host: origin.example, the signed authority
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    demo = json.loads(cargo("run", "-q", "-p", "origin-sdk", "--example", "sign_demo"))
    rc, out = verify(demo)
    check("python verifies Rust signature", rc == 0 and out == "verified", out)
    tampered = json.loads(cargo("run", "-q", "-p", "origin-sdk", "--example", "sign_demo", "--", "--tamper"))
    rc, out = verify(tampered)
    check("python rejects tampered header", rc == 1, out)
    wrong_key = dict(demo, public_key_b64=tampered["public_key_b64"][:-4] + "AAA=")
    rc, out = verify(wrong_key)
    check("python rejects wrong key", rc != 0, out)

    cargo("build", "-q", "-p", "example-origin")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    env = dict(os.environ, ORIGIN_NAME="py-origin", EDGE_VERIFY_KEYS=f"{demo['keyid']}:{demo['public_key_b64']}")
    proc = subprocess.Popen([os.path.join(target, "debug", "example-origin"), "--addr", "127.0.0.1:0"],
                            env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        addr = line.removeprefix("listening on ")
        status, body = send(addr, demo)
        check("origin accepts signed request", status == 200, f"{status} {body}")
        echoed = json.loads(body) if status == 200 else {}
        check("origin reports verified facts", echoed.get("facts", {}).get("user") == "alice"
              and echoed.get("origin") == "py-origin", body)
        captured = {"method": echoed.get("method", ""), "url": demo["url"], "headers": echoed.get("headers", {}),
                    "public_key_b64": demo["public_key_b64"], "keyid": demo["keyid"]}
        rc, out = verify(captured)
        check("python verifies request captured at origin", rc == 0, out)
        status, body = send(addr, demo)
        check("origin refuses replay", status == 401 and "replayed" in body, f"{status} {body}")
        status, body = send(addr, tampered)
        check("origin refuses tampered", status == 401, f"{status} {body}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
