#!/usr/bin/env python3
"""Our asymmetric tokens against verifiers that are not ours, and theirs against us.

Runs the real local server (target/debug/local-api, or $LOCAL_API_BIN) once per case, each on
a free port with the key fixtures of interop/keys/:

1. RS256, ES256, EdDSA (JWT_AUDIENCE=interop-api, no JWT_ISSUER: the issuer is the server's
   own URL): the discovery document names our URL as issuer and the JWKS's URL; PyJWT's
   PyJWKClient finds the key for our tokens there and jwt.decode accepts them (audience,
   issuer), and refuse our refresh tokens configured so (and with no audience), taking them
   only for the refresh audience <issuer>/refresh; the kid is the RFC 7638 thumbprint of the fixture's public key; the JWKS holds no
   private member; a token signed with a key we do not publish is refused, by PyJWT
   (InvalidSignatureError under our kid, PyJWKClientError under an unknown kid) and by us
   (422 "Signature verification failed" at /profile); /profile and /refresh take the real
   tokens. The RS256 run also publishes an extra key (JWT_PUBLIC_KEYS), whose tokens verify;
   the EdDSA run passes its private key on one line with literal "\\n".
   The same run for RS256 and ES256 signed in KMS (JWT_KMS_KEY_ARN, a key made in the moto of
   AWS_ENDPOINT_URL_KMS; JWT_PUBLIC_KEYS its public key): no private key anywhere but there.
2. HS256: /.well-known/jwks.json and /.well-known/openid-configuration answer 404 JSON.
3. flask-jwt-extended with RS256, both ways (JWT_ISSUER=https://auth.example.com): flask
   (JWT_PUBLIC_KEY, JWT_DECODE_ISSUER) takes our access token at /profile and, with no audience
   configured (it then skips the check), our refresh token at /refresh; configured with an
   audience (JWT_DECODE_AUDIENCE) it refuses our refresh token, which names <issuer>/refresh; we take flask's (JWT_PRIVATE_KEY, JWT_ENCODE_ISSUER; no kid) at /profile and
   /refresh.

Prints each failure, then 'interop: N passed, M failed'; exits non-zero on any failure. Every
server it starts is stopped when it ends, however it ends.
"""
import base64
import json
import os
import pathlib
import signal
import sys
import traceback
import urllib.error
import urllib.request
import uuid
import warnings

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from local_api import BINARY as LOCAL_API_BIN, LocalApi
from make_key_vectors import thumbprint
from reference_app import create_app

warnings.filterwarnings("ignore", message=".*HMAC key.*")
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
KEYS = HERE / "keys"
AUDIENCE = "interop-api"
FIXED_ISSUER = "https://auth.example.com"
ALGORITHMS = {"RS256": "rs256", "ES256": "es256", "EdDSA": "eddsa"}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
CREDENTIALS = {"username": "cosmo", "password": "space-corgi"}

passed, failures = 0, []


def check(name, ok, detail=""):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(f"{name}: {detail}")
    return ok


def raises(name, error_type, action):
    """Checks that action() raises error_type (and not something else)."""
    try:
        result = action()
    except error_type:
        return check(name, True)
    except Exception as error:  # noqa: BLE001 - any other outcome is the failure reported
        return check(name, False, f"raised {type(error).__name__}: {error}, not {error_type.__name__}")
    return check(name, False, f"did not raise {error_type.__name__}; returned {result!r}")


def key_file(name):
    return (KEYS / name).read_text()


def fresh_key(algorithm):
    """A key of the same type as `algorithm`'s, which nobody publishes."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def public_pem(key):
    return public_pem_of(key.public_key())


def public_pem_of(public_key):
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def jwk_thumbprint(algorithm, public_key):
    return thumbprint(json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(public_key)))


def segment(token, index):
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Server(LocalApi):
    """local-api on a free port (local_api.py), with the requests this check makes of it."""

    def request(self, method, path, token=None, body=None):
        """(status, JSON body or None, Content-Type)."""
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw, content_type = response.status, response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            status, raw, content_type = error.code, error.read(), error.headers.get("Content-Type")
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        return status, parsed, content_type

    def login(self):
        status, body, _ = self.request("POST", "/login", body=CREDENTIALS)
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise RuntimeError(f"{self.label}: POST /login answered {status} {body}")
        return body["access_token"], body["refresh_token"]


def kms_key(algorithm):
    """A new signing key in the KMS at AWS_ENDPOINT_URL_KMS (moto): its ARN and public key."""
    import boto3  # noqa: PLC0415 - only the KMS runs need it

    kms = boto3.client("kms")
    spec = {"RS256": "RSA_2048", "ES256": "ECC_NIST_P256"}[algorithm]
    arn = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec=spec)["KeyMetadata"]["Arn"]
    return arn, serialization.load_der_public_key(kms.get_public_key(KeyId=arn)["PublicKey"])


def asymmetric_run(algorithm, in_kms=False):
    name = ALGORITHMS[algorithm]
    label = algorithm
    rotated = None
    if in_kms:
        if not os.environ.get("AWS_ENDPOINT_URL_KMS"):
            raise RuntimeError("AWS_ENDPOINT_URL_KMS is not set: ./scripts/test starts moto for it")
        arn, public_key = kms_key(algorithm)
        env = {"JWT_ALGORITHM": algorithm, "JWT_KMS_KEY_ARN": arn,
               "JWT_PUBLIC_KEYS": public_pem_of(public_key), "JWT_AUDIENCE": AUDIENCE}
        label = f"{algorithm} signed in KMS"
    else:
        private_pem = key_file(f"{name}-private.pem")
        public_key = serialization.load_pem_public_key(key_file(f"{name}-public.pem").encode())
        env = {"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": private_pem, "JWT_AUDIENCE": AUDIENCE}
    if algorithm == "RS256" and not in_kms:
        # A second published key, as during a rotation: it verifies, and is in the JWKS.
        rotated = fresh_key(algorithm)
        env["JWT_PUBLIC_KEYS"] = public_pem(rotated)
    if algorithm == "EdDSA" and not in_kms:
        # The one-line form a .env file or a console field takes.
        env["JWT_PRIVATE_KEY"] = private_pem.strip().replace("\n", "\\n")
        label = "EdDSA (key on one line)"

    with Server(label, env) as server:
        url = server.url
        access, refresh = server.login()

        # Discovery, then the keys where it says they are.
        status, config, _ = server.request("GET", "/.well-known/openid-configuration")
        if not check(f"{label}: discovery answers 200 JSON", status == 200 and isinstance(config, dict),
                     f"{status} {config}"):
            return
        check(f"{label}: discovery issuer is the server's URL", config.get("issuer") == url,
              f"issuer {config.get('issuer')!r}, server {url!r}")
        jwks_uri = config.get("jwks_uri")
        check(f"{label}: discovery jwks_uri", jwks_uri == f"{url}/.well-known/jwks.json", repr(jwks_uri))
        check(f"{label}: discovery names the algorithm",
              config.get("id_token_signing_alg_values_supported") == [algorithm],
              repr(config.get("id_token_signing_alg_values_supported")))
        if not jwks_uri:
            return

        status, jwks, _ = server.request("GET", "/.well-known/jwks.json")
        keys = jwks.get("keys", []) if isinstance(jwks, dict) else []
        check(f"{label}: JWKS answers 200 with keys", status == 200 and keys, f"{status} {jwks}")
        leaked = [sorted(PRIVATE_MEMBERS & set(key)) for key in keys if PRIVATE_MEMBERS & set(key)]
        check(f"{label}: JWKS holds no private member", not leaked, f"private members {leaked}")
        published_kids = [key.get("kid") for key in keys]
        expected_kids = [jwk_thumbprint(algorithm, public_key)]
        if rotated is not None:
            expected_kids.append(jwk_thumbprint(algorithm, rotated.public_key()))
        check(f"{label}: JWKS publishes exactly our keys, kid = RFC 7638 thumbprint",
              sorted(published_kids) == sorted(expected_kids),
              f"published {published_kids}, expected {expected_kids}")

        header = jwt.get_unverified_header(access)
        kid = expected_kids[0]
        check(f"{label}: access token header", header == {"alg": algorithm, "kid": kid, "typ": "JWT"},
              repr(header))

        # PyJWT, from nothing but the JWKS's URL.
        client = jwt.PyJWKClient(jwks_uri, cache_keys=False)
        claims = None
        try:
            signing_key = client.get_signing_key_from_jwt(access)
            claims = jwt.decode(access, signing_key.key, algorithms=[algorithm],
                                audience=AUDIENCE, issuer=url)
            check(f"{label}: PyJWKClient + jwt.decode verify our access token",
                  claims.get("sub") == "cosmo" and claims.get("type") == "access", repr(claims))
        except Exception as error:  # noqa: BLE001
            check(f"{label}: PyJWKClient + jwt.decode verify our access token", False,
                  f"{type(error).__name__}: {error}")
            signing_key = None
        # Configured as API Gateway's JWT authorizer is (issuer, audience, JWKS), PyJWT refuses
        # our refresh token: it names the issuer's refresh URL, which no API is configured with.
        raises(f"{label}: PyJWT configured like API Gateway refuses our refresh token",
               jwt.InvalidAudienceError,
               lambda: jwt.decode(refresh, client.get_signing_key_from_jwt(refresh).key,
                                  algorithms=[algorithm], audience=AUDIENCE, issuer=url))
        raises(f"{label}: PyJWT with no audience configured refuses our refresh token",
               jwt.InvalidAudienceError,
               lambda: jwt.decode(refresh, client.get_signing_key_from_jwt(refresh).key,
                                  algorithms=[algorithm], issuer=url))
        try:
            refresh_claims = jwt.decode(refresh, client.get_signing_key_from_jwt(refresh).key,
                                        algorithms=[algorithm], audience=f"{url}/refresh",
                                        issuer=url)
            check(f"{label}: our refresh token verifies for the refresh audience, <issuer>/refresh",
                  refresh_claims.get("sub") == "cosmo" and refresh_claims.get("type") == "refresh",
                  repr(refresh_claims))
        except Exception as error:  # noqa: BLE001
            check(f"{label}: our refresh token verifies for the refresh audience, <issuer>/refresh",
                  False, f"{type(error).__name__}: {error}")

        # Our server takes its own tokens.
        status, body, _ = server.request("GET", "/profile", access)
        check(f"{label}: GET /profile with our access token",
              status == 200 and isinstance(body, dict) and body.get("logged_in_as") == "cosmo",
              f"{status} {body}")
        status, body, _ = server.request("POST", "/refresh", refresh)
        refreshed = body.get("access_token") if status == 200 and isinstance(body, dict) else None
        check(f"{label}: POST /refresh with our refresh token", refreshed is not None, f"{status} {body}")
        if refreshed:
            try:
                again = jwt.decode(refreshed, client.get_signing_key_from_jwt(refreshed).key,
                                   algorithms=[algorithm], audience=AUDIENCE, issuer=url)
                check(f"{label}: the refreshed access token verifies in PyJWT",
                      again.get("sub") == "cosmo" and again.get("type") == "access", repr(again))
            except Exception as error:  # noqa: BLE001
                check(f"{label}: the refreshed access token verifies in PyJWT", False,
                      f"{type(error).__name__}: {error}")
            status, body, _ = server.request("GET", "/profile", refreshed)
            check(f"{label}: GET /profile with the refreshed access token",
                  status == 200 and isinstance(body, dict) and body.get("logged_in_as") == "cosmo",
                  f"{status} {body}")

        # Forgeries: our claims, signed by a key nobody publishes.
        payload = claims or segment(access, 1)
        stranger = fresh_key(algorithm)
        forged = jwt.encode(payload, stranger, algorithm=algorithm, headers={"kid": kid})
        if signing_key is not None:
            raises(f"{label}: PyJWT refuses a forgery under our kid", jwt.InvalidSignatureError,
                   lambda: jwt.decode(forged, client.get_signing_key_from_jwt(forged).key,
                                      algorithms=[algorithm], audience=AUDIENCE, issuer=url))
        refused = (422, {"msg": "Signature verification failed"})
        status, body, _ = server.request("GET", "/profile", forged)
        check(f"{label}: GET /profile refuses a forgery under our kid", (status, body) == refused,
              f"{status} {body}")

        unknown = jwt.encode(payload, stranger, algorithm=algorithm,
                             headers={"kid": jwk_thumbprint(algorithm, stranger.public_key())})
        raises(f"{label}: PyJWKClient refuses an unknown kid", jwt.PyJWKClientError,
               lambda: client.get_signing_key_from_jwt(unknown))
        status, body, _ = server.request("GET", "/profile", unknown)
        check(f"{label}: GET /profile refuses an unknown kid", (status, body) == refused,
              f"{status} {body}")

        kidless = jwt.encode(payload, stranger, algorithm=algorithm)
        status, body, _ = server.request("GET", "/profile", kidless)
        check(f"{label}: GET /profile refuses a forgery without kid", (status, body) == refused,
              f"{status} {body}")

        if rotated is not None:
            # Signed elsewhere with the extra published key: both verifiers take it.
            extra_kid = expected_kids[1]
            other = jwt.encode({**payload, "jti": str(uuid.uuid4())}, rotated, algorithm=algorithm,
                               headers={"kid": extra_kid})
            try:
                decoded = jwt.decode(other, client.get_signing_key_from_jwt(other).key,
                                     algorithms=[algorithm], audience=AUDIENCE, issuer=url)
                check(f"{label}: PyJWKClient verifies a token of the extra published key",
                      decoded.get("sub") == "cosmo", repr(decoded))
            except Exception as error:  # noqa: BLE001
                check(f"{label}: PyJWKClient verifies a token of the extra published key", False,
                      f"{type(error).__name__}: {error}")
            status, body, _ = server.request("GET", "/profile", other)
            check(f"{label}: GET /profile takes a token of the extra published key",
                  status == 200 and isinstance(body, dict) and body.get("logged_in_as") == "cosmo",
                  f"{status} {body}")


def hs256_run():
    with Server("HS256", {}) as server:
        for path in ("/.well-known/jwks.json", "/.well-known/openid-configuration"):
            status, body, content_type = server.request("GET", path)
            check(f"HS256: GET {path} answers 404 JSON",
                  status == 404 and isinstance(body, dict) and "msg" in body
                  and (content_type or "").startswith("application/json"),
                  f"{status} {content_type} {body}")


def flask_app(**config):
    """The reference app (its routes, its user loader) with flask-jwt-extended set to RS256."""
    app = create_app("an HS256 secret this app never uses, at least 256 bits long")
    app.config.update(JWT_ALGORITHM="RS256", **config)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True
    return app


def flask_answer(client, method, path, token):
    response = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json(silent=True)


def flask_rs256_run():
    label = "flask RS256"
    private_pem = key_file("rs256-private.pem")
    public_pem_text = key_file("rs256-public.pem")
    env = {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": private_pem, "JWT_ISSUER": FIXED_ISSUER}
    with Server(label, env) as server:
        access, refresh = server.login()
        status, config, _ = server.request("GET", "/.well-known/openid-configuration")
        check(f"{label}: discovery issuer is JWT_ISSUER",
              status == 200 and isinstance(config, dict) and config.get("issuer") == FIXED_ISSUER,
              f"{status} {config}")

        # (a) flask-jwt-extended verifies ours with our public key.
        # (Its /refresh mints with our key and issuer too, so we can take that token back.)
        app = flask_app(JWT_PUBLIC_KEY=public_pem_text, JWT_PRIVATE_KEY=private_pem,
                        JWT_DECODE_ISSUER=FIXED_ISSUER, JWT_ENCODE_ISSUER=FIXED_ISSUER)
        client = app.test_client()
        with app.app_context():
            try:
                decoded = decode_token(access)
                check(f"{label}: flask decode_token takes our access token",
                      decoded.get("sub") == "cosmo" and decoded.get("type") == "access"
                      and decoded.get("fresh") is True and decoded.get("iss") == FIXED_ISSUER,
                      repr(decoded))
            except Exception as error:  # noqa: BLE001
                check(f"{label}: flask decode_token takes our access token", False,
                      f"{type(error).__name__}: {error}")
        status, body = flask_answer(client, "GET", "/profile", access)
        check(f"{label}: flask's /profile takes our access token",
              status == 200 and body and body.get("logged_in_as") == "cosmo", f"{status} {body}")
        # Our refresh tokens name the refresh audience. flask-jwt-extended skips the audience
        # check when it has none configured: such an app takes them at its /refresh as before;
        # one configured with an audience (as a resource server should be) refuses them.
        status, body = flask_answer(client, "POST", "/refresh", refresh)
        flask_refreshed = body.get("access_token") if status == 200 and body else None
        check(f"{label}: flask with no audience configured takes our refresh token at /refresh",
              flask_refreshed is not None, f"{status} {body}")
        audienced = flask_app(JWT_PUBLIC_KEY=public_pem_text, JWT_DECODE_ISSUER=FIXED_ISSUER,
                              JWT_DECODE_AUDIENCE="orders-api")
        status, body = flask_answer(audienced.test_client(), "POST", "/refresh", refresh)
        check(f"{label}: flask with an audience configured refuses our refresh token",
              (status, body) == (422, {"msg": "Audience doesn't match"}), f"{status} {body}")
        status, body = flask_answer(client, "POST", "/refresh", access)
        check(f"{label}: flask's /refresh refuses our access token", status == 422, f"{status} {body}")
        # A negative control: flask with another public key refuses our token.
        other = flask_app(JWT_PUBLIC_KEY=key_file("stranger-rs256-public.pem"),
                          JWT_DECODE_ISSUER=FIXED_ISSUER)
        status, body = flask_answer(other.test_client(), "GET", "/profile", access)
        check(f"{label}: flask with another public key refuses our token",
              status == 422 and body == {"msg": "Signature verification failed"}, f"{status} {body}")

        # (b) we verify flask-jwt-extended's (RS256, no kid).
        app = flask_app(JWT_PRIVATE_KEY=private_pem, JWT_PUBLIC_KEY=public_pem_text,
                        JWT_ENCODE_ISSUER=FIXED_ISSUER)
        with app.app_context():
            theirs_access = create_access_token(identity="cosmo", fresh=True)
            theirs_refresh = create_refresh_token(identity="cosmo")
        check(f"{label}: flask's tokens carry no kid",
              "kid" not in jwt.get_unverified_header(theirs_access), repr(jwt.get_unverified_header(theirs_access)))
        status, body, _ = server.request("GET", "/profile", theirs_access)
        check(f"{label}: our /profile takes flask's access token",
              status == 200 and isinstance(body, dict) and body.get("logged_in_as") == "cosmo",
              f"{status} {body}")
        status, body, _ = server.request("POST", "/refresh", theirs_refresh)
        ours = body.get("access_token") if status == 200 and isinstance(body, dict) else None
        check(f"{label}: our /refresh takes flask's refresh token", ours is not None, f"{status} {body}")
        if ours:
            status, body, _ = server.request("GET", "/profile", ours)
            check(f"{label}: the access token we refreshed from flask's opens /profile",
                  status == 200 and isinstance(body, dict) and body.get("logged_in_as") == "cosmo",
                  f"{status} {body}")
        status, body, _ = server.request("GET", "/profile", theirs_refresh)
        check(f"{label}: our /profile refuses flask's refresh token",
              status == 422 and body == {"msg": "Only non-refresh tokens are allowed"}, f"{status} {body}")
        if flask_refreshed:
            status, body, _ = server.request("GET", "/profile", flask_refreshed)
            check(f"{label}: our /profile takes the access token flask refreshed from ours",
                  status == 200 and isinstance(body, dict) and body.get("logged_in_as") == "cosmo",
                  f"{status} {body}")
        # iss is required: flask's token without JWT_ENCODE_ISSUER is refused.
        app = flask_app(JWT_PRIVATE_KEY=private_pem, JWT_PUBLIC_KEY=public_pem_text)
        with app.app_context():
            no_issuer = create_access_token(identity="cosmo")
        status, body, _ = server.request("GET", "/profile", no_issuer)
        check(f"{label}: our /profile refuses flask's token without iss",
              status in (401, 422) and isinstance(body, dict) and "msg" in body, f"{status} {body}")


def main():
    # Killed, it still stops its server: SystemExit unwinds through the `with Server` blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs = [(f"{algorithm} run", lambda algorithm=algorithm: asymmetric_run(algorithm))
            for algorithm in ALGORITHMS]
    runs += [(f"{algorithm} in KMS run", lambda algorithm=algorithm: asymmetric_run(algorithm, True))
             for algorithm in ("RS256", "ES256")]
    runs += [("HS256 run", hs256_run), ("flask RS256 run", flask_rs256_run)]
    if not os.access(LOCAL_API_BIN, os.X_OK):
        check("local-api binary", False, f"{LOCAL_API_BIN} is missing: cargo build -p local-api")
    else:
        for name, run in runs:
            try:
                run()
            except Exception as error:  # noqa: BLE001 - a run that breaks is one failure, the rest go on
                detail = str(error) if isinstance(error, RuntimeError) else traceback.format_exc()
                check(name, False, detail)
    for failure in failures:
        print(f"FAILED {failure}")
    print(f"interop: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
