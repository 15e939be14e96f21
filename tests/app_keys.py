"""RSA key pairs for GitHub App tests: the product signs with the private key, the
emulator verifies with the public one (as GitHub does). Made once per process."""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = "424242"
INSTALLATION_ID = 77


def key_pair(name: str = "app") -> tuple[str, str]:
    """``(private PEM, public PEM)``; ``name`` tells independent pairs apart."""
    return _key_pair(name)  # one cache key per name, however it was passed


@functools.lru_cache(maxsize=4)
def _key_pair(name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def key_fragments(private_pem: str) -> list[str]:
    """The whole PEM and each 64-character line of its body: what a leak scan looks for
    (a key can leak re-wrapped, or in part)."""
    lines = [line for line in private_pem.splitlines() if line and not line.startswith("-----")]
    return [private_pem, *[line for line in lines if len(line) >= 40]]
