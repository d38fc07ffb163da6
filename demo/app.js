// The demo's whole client: log in, show the profile, refresh on a 401 and retry once, log out.
//
// It never holds a token. The API sets them as HttpOnly cookies, which the browser keeps and
// sends with `credentials: "include"`, and which no script (this one, or one an attacker
// injects) can read. Nothing goes into localStorage or sessionStorage either.
//
// What it does read is a CSRF value: the API also sets `csrf_access_token` and
// `csrf_refresh_token`, readable cookies, and wants the matching one back in an X-CSRF-TOKEN
// header on every POST that a token cookie authorises. A page of another site can make the
// browser send the token cookies, but cannot read these values, so it cannot add the header.
"use strict";

const API = window.DEMO_CONFIG.apiBase.replace(/\/+$/, "");
const RELOAD_PROFILE_MS = window.DEMO_CONFIG.reloadProfileSeconds * 1000;

const $ = (id) => document.getElementById(id);

// --- Talking to the API -----------------------------------------------------------------

// A cookie's value as document.cookie shows it, or null. Only the csrf_* cookies are there.
function readCookie(name) {
  for (const pair of document.cookie.split("; ")) {
    const separator = pair.indexOf("=");
    if (separator > 0 && pair.slice(0, separator) === name) {
      return decodeURIComponent(pair.slice(separator + 1));
    }
  }
  return null;
}

// One request to the API, with the browser's cookies. `csrfCookie` names the csrf_* cookie
// whose value goes in X-CSRF-TOKEN (read at the time of the call: a refresh replaces it).
// Answers {status, body}; status 0 when the API could not be reached (down, or CORS refused).
async function callApi(method, path, { json, csrfCookie } = {}) {
  const headers = {};
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  if (csrfCookie) {
    const csrf = readCookie(csrfCookie);
    if (csrf !== null) {
      headers["X-CSRF-TOKEN"] = csrf;
    }
  }
  let status = 0;
  let body = null;
  try {
    const response = await fetch(API + path, {
      method,
      headers,
      credentials: "include",
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    status = response.status;
    body = await response.json().catch(() => null);
  } catch (error) {
    body = { msg: `cannot reach the API (${error.message}); is it running, with CORS for ${location.origin}?` };
  }
  logRequest(`${method} ${path} → ${status || "no answer"}${body && body.msg ? ` (${body.msg})` : ""}`);
  showReadableCookies();
  return { status, body };
}

// POST /refresh: a new access token cookie (and a new csrf_access_token) from the refresh
// token cookie. Calls made at once share one refresh. Answers whether it worked.
let refreshInFlight = null;
function refreshAccessToken() {
  if (refreshInFlight === null) {
    refreshInFlight = callApi("POST", "/refresh", { csrfCookie: "csrf_refresh_token" })
      .then((reply) => {
        if (reply.status === 200) {
          $("refresh-count").textContent = String(Number($("refresh-count").textContent) + 1);
        }
        return reply.status === 200;
      })
      .finally(() => {
        refreshInFlight = null;
      });
  }
  return refreshInFlight;
}

// A call that needs the access token: on a 401 (expired, say), refresh, then try once more.
async function withRefresh(call) {
  const reply = await call();
  if (reply.status !== 401 || !(await refreshAccessToken())) {
    return reply;
  }
  return call();
}

// --- What the page does -----------------------------------------------------------------

async function showProfile() {
  const reply = await withRefresh(() => callApi("GET", "/profile"));
  if (reply.status === 200) {
    showLoggedIn(reply.body);
  } else if (reply.status === 401 && hasNoSession(reply)) {
    showLoggedOut("You are logged out");
  } else if (reply.status === 401) {
    showLoggedOut(`You are logged out: ${describe(reply)}`);
  } else {
    showLoggedOut(`The API refuses the profile: ${describe(reply)}`);
  }
}

async function logIn(event) {
  event.preventDefault();
  $("login-button").disabled = true;
  const reply = await callApi("POST", "/login", {
    json: { username: $("username").value, password: $("password").value },
  });
  $("login-button").disabled = false;
  if (reply.status === 200) {
    $("password").value = "";
    await showProfile();
  } else {
    setStatus(`Login failed: ${describe(reply)}`);
  }
}

async function logOut() {
  clearTimeout(reloadTimer);
  const reply = await withRefresh(() =>
    callApi("POST", "/logout", { csrfCookie: "csrf_access_token" }));
  if (reply.status !== 200) {
    setStatus(`Logout failed: ${describe(reply)}`);
    return;
  }
  // The API cleared the cookies and revoked the session: show that it now refuses the profile.
  await showProfile();
}

// --- Showing it ---------------------------------------------------------------------------

let reloadTimer = null;

function showLoggedIn(profile) {
  setStatus(`Logged in as ${profile.logged_in_as}`, "ok");
  $("profile").textContent = JSON.stringify(profile, null, 2);
  $("profile-loads").textContent = String(Number($("profile-loads").textContent) + 1);
  $("login-form").hidden = true;
  $("session").hidden = false;
  // Reload the profile by itself every few seconds: once the access token has expired, the
  // next load gets a 401 and refreshes.
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(showProfile, RELOAD_PROFILE_MS);
}

function showLoggedOut(message) {
  clearTimeout(reloadTimer);
  setStatus(message);
  $("profile").textContent = "";
  $("session").hidden = true;
  $("login-form").hidden = false;
}

// The status line; `kind` colours it: "ok", or "problem" for a failure.
function setStatus(text, kind = text.includes("failed") || text.includes("refuses") ? "problem" : "") {
  $("status").textContent = text;
  $("status").className = kind;
}

// What the API said, for a person: its msg or error (a schema's errors field by field), else
// what happened.
function describe(reply) {
  const body = reply.body || {};
  if (typeof body.msg === "string") return body.msg;
  if (typeof body.error === "string") return body.error;
  if (body.error && typeof body.error === "object") {
    return Object.entries(body.error)
      .map(([field, problems]) => `${field}: ${[].concat(problems).join(" ")}`)
      .join("; ");
  }
  if (typeof body.message === "string") return body.message;
  return reply.status ? `HTTP ${reply.status}` : "the API could not be reached";
}

// Whether a 401 only says there is no session at all (no token cookie), which is no error.
function hasNoSession(reply) {
  const message = (reply.body && reply.body.msg) || "";
  return message.startsWith("Missing cookie") || message.startsWith("Missing JWT");
}

function showReadableCookies() {
  $("js-cookies").textContent = document.cookie || "(none)";
}

// The request log; the same line again just counts (×2, ×3 …).
function logRequest(line) {
  const last = $("log").lastElementChild;
  if (last && last.dataset.line === line) {
    last.dataset.count = String(Number(last.dataset.count) + 1);
    last.textContent = `${line} ×${last.dataset.count}`;
    return;
  }
  const item = document.createElement("li");
  item.dataset.line = line;
  item.dataset.count = "1";
  item.textContent = line;
  $("log").append(item);
}

// --- Start ----------------------------------------------------------------------------------

$("api-base").textContent = API;
$("login-form").addEventListener("submit", logIn);
$("reload-button").addEventListener("click", showProfile);
$("logout-button").addEventListener("click", logOut);
showReadableCookies();
// The csrf_* cookies come and go with the token cookies: with neither, there is no session to
// resume and no need to ask. With them (a reload of the page), the session goes on.
if (readCookie("csrf_access_token") !== null || readCookie("csrf_refresh_token") !== null) {
  showProfile();
} else {
  showLoggedOut("You are logged out");
}
