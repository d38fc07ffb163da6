// Our asymmetric tokens against two verifiers we did not write, on Node, configured as API
// Gateway's JWT authorizer is (issuer, audience, the JWKS): AWS's aws-jwt-verify (JwtVerifier,
// the JWKS handed over with cacheJwks: it fetches over https only, and local-api is plain
// http) and panva's jose (jwtVerify over createLocalJWKSet of the JWKS we fetched).
//
// For RS256, ES256 and EdDSA it starts the real local-api (LOCAL_API_BIN, default
// target/debug/local-api) on a free port with the fixture keys of interop/keys and
// JWT_AUDIENCE=interop-api, logs in, fetches /.well-known/jwks.json, and checks: both accept the
// access token (sub, type, the issuer being the server's URL); both refuse the refresh token
// (its audience is <issuer>/refresh); both refuse our claims signed by a key we do not publish
// under our kid; aws-jwt-verify with `audience: null` (what it wants when an API has no
// audience) also takes the access token. Prints each failure, then `interop: N passed,
// M failed`; exits non-zero on a failure. Every server it starts is stopped.

import { spawn } from "node:child_process";
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { JwtVerifier } from "aws-jwt-verify";
import { createLocalJWKSet, jwtVerify } from "jose";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const binary = process.env.LOCAL_API_BIN || path.join(root, "target/debug/local-api");
const AUDIENCE = "interop-api";
const ALGORITHMS = { RS256: "rs256", ES256: "es256", EdDSA: "eddsa" };

let passed = 0;
const failures = [];
function check(name, ok, detail = "") {
  if (ok) passed += 1;
  else failures.push(`${name}: ${detail}`);
}
async function refuses(name, action) {
  try {
    const result = await action();
    check(name, false, `accepted: ${JSON.stringify(result)}`);
  } catch (error) {
    check(name, true);
  }
}

// local-api on a free port with `env` over a clean environment; resolves with its URL.
function startServer(env) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(JWT_|CORS_|DEMO_|UPSTREAM_)/.test(name) && !["PORT", "USERS_TABLE", "SESSIONS_TABLE"].includes(name),
    ),
  );
  const child = spawn(binary, [], { env: { ...clean, PORT: "0", ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no URL from local-api: ${output}`)), 15000);
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const found = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (found) {
        clearTimeout(timer);
        resolve({ url: found[1], stop: () => child.kill() });
      }
    });
    child.on("exit", (code) => reject(new Error(`local-api exited (${code}): ${output}`)));
  });
}

const base64url = (bytes) => Buffer.from(bytes).toString("base64url");

// `payload` signed as `alg` by a key nobody publishes, under `kid`.
function forged(alg, kid, payload) {
  const { privateKey } =
    alg === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" })
    : generateKeyPairSync("ed25519");
  const input = `${base64url(JSON.stringify({ alg, kid, typ: "JWT" }))}.${base64url(JSON.stringify(payload))}`;
  const signature =
    alg === "RS256" ? nodeSign("sha256", Buffer.from(input), privateKey)
    : alg === "ES256" ? nodeSign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" })
    : nodeSign(null, Buffer.from(input), privateKey);
  return `${input}.${base64url(signature)}`;
}

async function run(alg) {
  const key = readFileSync(path.join(root, "interop/keys", `${ALGORITHMS[alg]}-private.pem`), "utf8");
  const server = await startServer({ JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: key, JWT_AUDIENCE: AUDIENCE });
  try {
    const login = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "cosmo", password: "space-corgi" }),
    });
    const tokens = await login.json();
    check(`${alg}: POST /login`, login.status === 200 && tokens.access_token, `${login.status} ${JSON.stringify(tokens)}`);
    const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
    const issuer = server.url;

    // aws-jwt-verify, the JWKS handed over (it fetches over https only).
    const aws = JwtVerifier.create({ issuer, audience: AUDIENCE, jwksUri: `${issuer}/.well-known/jwks.json` });
    aws.cacheJwks(jwks);
    try {
      const payload = aws.verifySync(tokens.access_token);
      check(`${alg}: aws-jwt-verify accepts our access token`, payload.sub === "cosmo" && payload.type === "access", JSON.stringify(payload));
    } catch (error) {
      check(`${alg}: aws-jwt-verify accepts our access token`, false, String(error));
    }
    await refuses(`${alg}: aws-jwt-verify refuses our refresh token`, () => aws.verifySync(tokens.refresh_token));
    const noAudience = JwtVerifier.create({ issuer, audience: null, jwksUri: `${issuer}/.well-known/jwks.json` });
    noAudience.cacheJwks(jwks);
    try {
      noAudience.verifySync(tokens.access_token);
      check(`${alg}: aws-jwt-verify with audience: null accepts our access token`, true);
    } catch (error) {
      check(`${alg}: aws-jwt-verify with audience: null accepts our access token`, false, String(error));
    }

    // jose, over the JWKS we fetched.
    const keys = createLocalJWKSet(jwks);
    try {
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, keys, { issuer, audience: AUDIENCE, algorithms: [alg] });
      check(`${alg}: jose accepts our access token`, payload.sub === "cosmo" && protectedHeader.kid === jwks.keys[0].kid, JSON.stringify(payload));
    } catch (error) {
      check(`${alg}: jose accepts our access token`, false, String(error));
    }
    await refuses(`${alg}: jose refuses our refresh token`, () => jwtVerify(tokens.refresh_token, keys, { issuer, audience: AUDIENCE, algorithms: [alg] }));

    // Our claims under our kid, signed by a stranger's key: both refuse.
    const claims = JSON.parse(Buffer.from(tokens.access_token.split(".")[1], "base64url"));
    const forgery = forged(alg, jwks.keys[0].kid, claims);
    await refuses(`${alg}: aws-jwt-verify refuses a forgery under our kid`, () => aws.verifySync(forgery));
    await refuses(`${alg}: jose refuses a forgery under our kid`, () => jwtVerify(forgery, keys, { issuer, audience: AUDIENCE, algorithms: [alg] }));
  } finally {
    server.stop();
  }
}

for (const alg of Object.keys(ALGORITHMS)) {
  try {
    await run(alg);
  } catch (error) {
    check(`${alg} run`, false, String(error && error.stack ? error.stack : error));
  }
}
for (const failure of failures) console.log(`FAILED ${failure}`);
console.log(`interop: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
