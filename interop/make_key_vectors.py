"""Writes the asymmetric-key test fixtures: one key pair per algorithm (RS256 in PKCS#1 and
PKCS#8, ES256 and EdDSA in PKCS#8, each public key as SPKI; an RSA key too short to sign with), and tokens PyJWT signs with them,
which `shared`'s crypto tests must verify (and, for the deterministic RS256 and EdDSA, produce
byte for byte). Test keys only: never deploy them.

    .venv/bin/python interop/make_key_vectors.py   # rewrites interop/keys/
"""
import base64
import hashlib
import json
import pathlib

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HERE = pathlib.Path(__file__).parent / "keys"
PAYLOAD = {"sub": "cosmo", "iat": 1764374400, "exp": 4102444800, "type": "access"}


def pem(key, fmt):
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def public_pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def thumbprint(jwk):
    """RFC 7638: SHA-256 of the required members, sorted, without whitespace; base64url."""
    required = {"RSA": ["e", "kty", "n"], "EC": ["crv", "kty", "x", "y"], "OKP": ["crv", "kty", "x"]}
    members = {name: jwk[name] for name in required[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def main():
    HERE.mkdir(exist_ok=True)
    keys = {
        "rs256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "es256": ec.generate_private_key(ec.SECP256R1()),
        "eddsa": ed25519.Ed25519PrivateKey.generate(),
    }
    vectors = {}
    for name, key in keys.items():
        (HERE / f"{name}-private.pem").write_text(pem(key, serialization.PrivateFormat.PKCS8))
        (HERE / f"{name}-public.pem").write_text(public_pem(key))
        algorithm = {"rs256": "RS256", "es256": "ES256", "eddsa": "EdDSA"}[name]
        jwk = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(key.public_key()))
        vectors[algorithm] = {
            "token": jwt.encode(PAYLOAD, key, algorithm=algorithm, headers={"kid": "pyjwt"}),
            "public_jwk": jwk,
            "thumbprint": thumbprint(jwk),
        }
    (HERE / "rs256-private-pkcs1.pem").write_text(
        pem(keys["rs256"], serialization.PrivateFormat.TraditionalOpenSSL)
    )
    # Too short to sign with (RFC 7518 §3.3 asks for 2048 bits at least).
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (HERE / "rsa1024-private.pem").write_text(pem(short, serialization.PrivateFormat.PKCS8))
    # Public keys that cannot verify ES256 or RS256 tokens: never to be published.
    (HERE / "rsa1024-public.pem").write_text(public_pem(short))
    (HERE / "p384-public.pem").write_text(public_pem(ec.generate_private_key(ec.SECP384R1())))
    # A key nobody publishes: its tokens must be refused.
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    vectors["stranger_RS256"] = jwt.encode(PAYLOAD, stranger, algorithm="RS256")
    (HERE / "stranger-rs256-public.pem").write_text(public_pem(stranger))
    (HERE / "vectors.json").write_text(json.dumps({"payload": PAYLOAD, **vectors}, indent=2) + "\n")


if __name__ == "__main__":
    main()
