"""--native with cryptography: elliptic-curve signatures, whose time is in its Rust extension
(and the OpenSSL linked into it). argv[1]: seconds."""
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

key = ec.generate_private_key(ec.SECP384R1())
data = b"pyspy-ts --native" * 64


def sign():
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


print("ready", flush=True)
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    sign()
