// The demo's whole client: log in, show the profile, refresh on a 401 and retry once, log out;
// the account screens: sign up, confirm the address from the mailed link, change the
// password, reset a forgotten one from its mailed link; and a second factor: turn it on (a QR
// code and the secret for an authenticator app), a login's second step with a code or a
// recovery code, new recovery codes, turn it off; where the user is signed in (each session,
// with a button that signs it out, and "sign out everywhere else"), and the account's recent
// security activity.
//
// It never holds a token. The API sets them as HttpOnly cookies, which the browser keeps and
// sends with `credentials: "include"`, and which no script (this one, or one an attacker
// injects) can read. Nothing goes into localStorage or sessionStorage either.
//
// What it does read is a CSRF value: the API also sets `csrf_access_token` and
// `csrf_refresh_token`, readable cookies, and wants the matching one back in an X-CSRF-TOKEN
// header on every POST (and DELETE) that a token cookie authorises. A page of another site can make the
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
// Answers {status, body, retryAfter}; status 0 when the API could not be reached (down, or
// CORS refused); retryAfter is the Retry-After header's seconds (a 429, a 503), else null.
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
  let retryAfter = null;
  try {
    const response = await fetch(API + path, {
      method,
      headers,
      credentials: "include",
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    status = response.status;
    retryAfter = response.headers.get("Retry-After");
    body = await response.json().catch(() => null);
  } catch (error) {
    body = { msg: `cannot reach the API (${error.message}); is it running, with CORS for ${location.origin}?` };
  }
  // The API's one-line answer beside it: flask-jwt-extended's msg, or this API's error.
  const said = body && (typeof body.msg === "string" ? body.msg
    : typeof body.error === "string" ? body.error : null);
  logRequest(`${method} ${path} → ${status || "no answer"}${said ? ` (${said})` : ""}`);
  showReadableCookies();
  return { status, body, retryAfter };
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
  // A profile asked for before the page changed the second factor says how it was before.
  const mfaChangesBefore = mfaChanges;
  const reply = await withRefresh(() => callApi("GET", "/profile"));
  if (reply.status === 200) {
    showLoggedIn(reply.body, mfaChangesBefore === mfaChanges);
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
  const reply = await busy("login-button", () => callApi("POST", "/login", {
    json: { username: $("username").value, password: $("password").value },
  }));
  if (reply.status === 200) {
    $("password").value = "";
    sessionMethod = "your password";
    await showProfile();
  } else if (reply.status === 403 && reply.body && reply.body.error === "mfa_required"
    && typeof reply.body.mfa_token === "string") {
    $("password").value = "";
    showSecondStep(reply.body.mfa_token);
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

// --- Accounts: sign up, confirm, change the password, reset it ------------------------------
//
// The mailed links open this page with ?type=signup&token=… or ?type=recovery&token=…. The
// page takes the token out of the address bar at once (history, bookmarks, a screenshot) and
// keeps it in the closures below only. The page sends no Referer (index.html's referrer
// policy, and local-api's Referrer-Policy header), so the token goes nowhere but to the API.

async function signUp(event) {
  event.preventDefault();
  const fields = { email: "signup-email", password: "signup-password" };
  const email = $("signup-email").value.trim();
  const reply = await busy("signup-button", () => callApi("POST", "/signup", {
    json: { email, password: $("signup-password").value },
  }));
  if (reply.status === 200) {
    showFieldErrors(fields, null);
    $("signup-password").value = "";
    $("signup-sent-to").textContent = email;
    $("resend-message").textContent = "";
    showScreen("signup-sent");
    setStatus("Signed up: check your mail", "ok");
  } else {
    showFieldErrors(fields, fieldErrorsOf(reply));
    setStatus(`Sign-up failed: ${describe(reply)}`);
  }
}

// POST /resend for a sign-up: the API answers 200 whether or not the address waits for
// confirmation (no one learns which addresses have accounts), so the message says "if".
async function resendConfirmation(email, buttonId, messageId) {
  const reply = await busy(buttonId, () => callApi("POST", "/resend", {
    json: { type: "signup", email },
  }));
  $(messageId).textContent = reply.status === 200
    ? `If ${email} waits for confirmation, a new link is on its way. (An address gets one ` +
      "mail a minute at most: asked again sooner, the API sends none.)"
    : `No new link: ${describe(reply)}`;
}

// The confirmation link's screen. Nothing is confirmed on load: mail scanners and link
// previews open links too, and would confirm for the user (and spend the token).
function showConfirmScreen(token) {
  showScreen("confirm-screen");
  setStatus("Confirm your address to finish signing up");
  $("confirm-screen").addEventListener("submit", (event) => {
    event.preventDefault();
    confirmAddress(token);
  });
}

async function confirmAddress(token) {
  const password = $("confirm-password").value;
  $("confirm-password-error").textContent = "";
  $("confirm-password").removeAttribute("aria-invalid");
  const reply = await busy("confirm-button", () => callApi("POST", "/verify", {
    json: { type: "signup", token, password },
  }));
  const passwordProblem = reply.body && reply.body.error && reply.body.error.password;
  if (reply.status === 200) {
    // Like a login: the API set the session's cookies.
    await showProfile();
  } else if (reply.status === 400 && passwordProblem) {
    // The link still works: only the password was not its own.
    $("confirm-password-error").textContent = passwordProblem.join(" ");
    $("confirm-password").setAttribute("aria-invalid", "true");
    $("confirm-password").focus();
    setStatus("Not confirmed: see the password's message", "problem");
  } else if (reply.status === 400) {
    showScreen("link-resend-form");
    setStatus(`This link does not work (${describe(reply)}): a link works once, and for as long ` +
      "as its mail says. Confirmed already? Log in. Otherwise ask for a new link below.", "problem");
  } else {
    setStatus(`Confirmation failed: ${describe(reply)}`);
  }
}

async function askForReset(event) {
  event.preventDefault();
  const email = $("forgot-email").value.trim();
  const reply = await busy("forgot-button", () => callApi("POST", "/recover", { json: { email } }));
  // 200 whether the address has an account or not: the page cannot tell, and says "if".
  $("forgot-message").textContent = reply.status === 200
    ? "If the address has an account, a link to reset its password is on its way. It works " +
      "once, and not for long."
    : `No link sent: ${describe(reply)}`;
}

// The reset link's screen: first asks the API whether the link still works (POST /verify
// type recovery spends nothing), so that no one types a new password for a dead link.
async function checkResetLink(token) {
  setStatus("Checking the reset link…");
  const reply = await callApi("POST", "/verify", { json: { type: "recovery", token } });
  if (reply.status === 200) {
    setStatus("The link works: choose a new password", "ok");
  } else if (reply.status === 400) {
    deadResetLink(reply);
    return;
  } else {
    // Not an answer about the link (the API is down, or busy): the reset itself will tell.
    setStatus(`Could not check the link (${describe(reply)}): choose a new password, and the ` +
      "reset will say whether the link works", "problem");
  }
  showScreen("reset-form");
  $("reset-form").addEventListener("submit", (event) => resetPassword(event, token));
}

function deadResetLink(reply) {
  $("forgot-message").textContent = "";
  showScreen("forgot-form");
  setStatus(`This reset link does not work (${describe(reply)}): a link works once, and not ` +
    "for long. Ask for a new one below.", "problem");
}

async function resetPassword(event, token) {
  event.preventDefault();
  const fields = { new_password: "reset-password" };
  const reply = await busy("reset-button", () => callApi("POST", "/password/reset", {
    json: { token, new_password: $("reset-password").value },
  }));
  if (reply.status === 200) {
    showFieldErrors(fields, null);
    $("reset-password").value = "";
    // The reset ended every session of the account, this browser's too if it had one.
    showLoggedOut("Password changed: log in with your new password", "ok");
  } else if (showFieldErrors(fields, fieldErrorsOf(reply))) {
    setStatus(`Reset failed: ${describe(reply)}`);
  } else if (reply.status === 400) {
    deadResetLink(reply);
  } else {
    setStatus(`Reset failed: ${describe(reply)}`);
  }
}

// POST /password needs a *fresh* access token, one from a login (or a confirmation), not from
// a refresh. So no refresh and retry here, unlike the profile: a refreshed token would only be
// refused for not being fresh. The way to a fresh one is to log in again.
async function changePassword(event) {
  event.preventDefault();
  const fields = { current_password: "current-password", new_password: "new-password" };
  showFieldErrors(fields, null);
  $("password-message").textContent = "";
  const reply = await busy("password-button", () => callApi("POST", "/password", {
    json: { current_password: $("current-password").value, new_password: $("new-password").value },
    csrfCookie: "csrf_access_token",
  }));
  const said = describe(reply);
  let message;
  if (reply.status === 200) {
    $("current-password").value = "";
    $("new-password").value = "";
    message = "Password changed. Your other sessions are logged out; this one goes on.";
  } else if (reply.status === 401 && said === "Current password is incorrect") {
    showFieldErrors(fields, { current_password: [said] });
    message = `Password not changed: ${said}`;
  } else if (reply.status === 401 && (said === "Fresh token required" || said === "Token has expired")) {
    message = `Password not changed (${said}): changing it takes a recent login, and this ` +
      "session's access token comes from a refresh. Log out and log in again, then change it.";
  } else if (showFieldErrors(fields, fieldErrorsOf(reply))) {
    message = `Password not changed: ${said}`;
  } else if (reply.status === 401) {
    // No session any more (revoked, logged out in another tab): show that.
    await showProfile();
    message = `Password not changed: ${said}`;
  } else {
    message = `Password not changed: ${said}`;
  }
  $("password-message").textContent = message;
}

// --- The second factor: a login's second step, and turning it on and off -------------------
//
// The /mfa routes need a *fresh* access token, as POST /password does: no refresh and retry
// there either. Their answers carry a secret or recovery codes, which the page shows once and
// forgets at logout; it keeps no copy anywhere else.

// The login waiting for its second step: its mfa_token (one login, a few minutes, from this
// address only; no session token: it opens nothing but /login/mfa) and whether the form takes
// a recovery code. Only here, never in the page or a storage.
let secondStep = null;
// How this session signed in, as the page saw it (a reload forgets: then it says nothing).
let sessionMethod = null;
// The second factor as the page last knew it: on (the profile's `mfa_enabled`), or being
// turned on (a secret shown, waiting for its first code).
let mfaOn = false;
let mfaEnrolling = false;
// Counts the page's own changes of the factor: a profile asked for before one is stale.
let mfaChanges = 0;

function showSecondStep(mfaToken) {
  secondStep = { mfaToken, recovery: false };
  $("mfa-login-code").value = "";
  showFieldErrors({ code: "mfa-login-code" }, null);
  setSecondStepKind(false);
  showScreen("mfa-login-form");
  $("mfa-login-code").focus();
  setStatus("Password accepted: now the second factor");
}

function setSecondStepKind(recovery) {
  secondStep.recovery = recovery;
  $("mfa-login-label").textContent = recovery ? "Recovery code" : "Code";
  $("mfa-login-code").inputMode = recovery ? "text" : "numeric";
  $("mfa-login-prompt").textContent = recovery
    ? "Your password is right. Enter one of the recovery codes you kept when you turned " +
      "two-factor on: each works once."
    : "Your password is right. Enter the 6-digit code your authenticator app shows for this " +
      "account.";
  $("mfa-login-toggle").textContent = recovery
    ? "Use a code from the app instead"
    : "Use a recovery code instead";
}

async function logInSecondStep(event) {
  event.preventDefault();
  if (secondStep === null) {
    showLoggedOut("Log in first", "problem");
    return;
  }
  const { mfaToken, recovery } = secondStep;
  const typed = $("mfa-login-code").value;
  const json = recovery
    ? { mfa_token: mfaToken, recovery_code: typed }
    : { mfa_token: mfaToken, code: typed };
  const reply = await busy(["mfa-login-button", "mfa-login-toggle"], () =>
    callApi("POST", "/login/mfa", { json }));
  if (reply.status === 200) {
    // Like a login: the API set the session's cookies.
    secondStep = null;
    $("mfa-login-code").value = "";
    sessionMethod = recovery
      ? "your password and a recovery code"
      : "your password and a code from your authenticator app";
    await showProfile();
  } else if (reply.status === 401 && saidBy(reply) !== "Invalid code") {
    // The mfa_token is dead (expired, used, too many wrong codes): the password again.
    showLoggedOut(`Login failed (${describe(reply)}): log in again`, "problem");
  } else {
    codeFieldError("mfa-login-code", reply);
    setStatus(`Login failed: ${describe(reply)}`);
  }
}

// The body that proves the factor from what was typed: six digits (an app shows `123 456`)
// are a code, anything else a recovery code.
function answerOf(typed) {
  return /^\d{6}$/.test(typed.replace(/\s/g, "")) ? { code: typed } : { recovery_code: typed };
}

async function beginEnrolment() {
  $("mfa-message").textContent = "";
  const reply = await busy("mfa-begin-button", () => callApi("POST", "/mfa/totp", {
    json: {},
    csrfCookie: "csrf_access_token",
  }));
  if (reply.status !== 200 || !reply.body || typeof reply.body.secret !== "string") {
    await mfaRefused("Two-factor not turned on", reply, null);
    return;
  }
  const image = typeof reply.body.qr_svg === "string" ? qrImage(reply.body.qr_svg) : null;
  if (image) {
    $("mfa-qr").replaceChildren(image);
  } else {
    $("mfa-qr").textContent = "(The QR code cannot be shown: type the secret into the app.)";
  }
  // Text, never markup; in groups of four, as apps that take it typed show it.
  $("mfa-secret").textContent = reply.body.secret.replace(/(.{4})(?=.)/g, "$1 ");
  $("mfa-confirm-code").value = "";
  showFieldErrors({ code: "mfa-confirm-code" }, null);
  mfaEnrolling = true;
  renderMfa();
  $("mfa-confirm-code").focus();
}

async function confirmEnrolment(event) {
  event.preventDefault();
  $("mfa-message").textContent = "";
  const reply = await busy("mfa-confirm-button", () => callApi("POST", "/mfa/totp/confirm", {
    json: { code: $("mfa-confirm-code").value },
    csrfCookie: "csrf_access_token",
  }));
  if (reply.status !== 200 || !reply.body || !Array.isArray(reply.body.recovery_codes)) {
    await mfaRefused("Two-factor not turned on", reply, "mfa-confirm-code");
    return;
  }
  mfaChanges += 1;
  mfaOn = true;
  forgetEnrolment();
  showRecoveryCodes(reply.body.recovery_codes);
  $("mfa-message").textContent = "Two-factor is on: logins ask for a code from now on. Your " +
    "other sessions are logged out; this one goes on.";
  renderMfa();
}

function cancelEnrolment() {
  // The secret stays pending at the API, unused: a new "Turn on" replaces it.
  forgetEnrolment();
  renderMfa();
}

function forgetEnrolment() {
  mfaEnrolling = false;
  $("mfa-qr").replaceChildren();
  $("mfa-secret").textContent = "";
  $("mfa-confirm-code").value = "";
  showFieldErrors({ code: "mfa-confirm-code" }, null);
}

async function turnOff(event) {
  event.preventDefault();
  $("mfa-message").textContent = "";
  const reply = await busy(["mfa-off-button", "mfa-new-codes-button"], () =>
    callApi("DELETE", "/mfa/totp", {
      json: answerOf($("mfa-manage-code").value),
      csrfCookie: "csrf_access_token",
    }));
  if (reply.status !== 200) {
    await mfaRefused("Two-factor not turned off", reply, "mfa-manage-code");
    return;
  }
  mfaChanges += 1;
  mfaOn = false;
  forgetManageForm();
  hideRecoveryCodes();
  $("mfa-message").textContent = "Two-factor is off: logins take the password alone.";
  renderMfa();
}

async function newRecoveryCodes() {
  $("mfa-message").textContent = "";
  const reply = await busy(["mfa-off-button", "mfa-new-codes-button"], () =>
    callApi("POST", "/mfa/recovery-codes", {
      json: answerOf($("mfa-manage-code").value),
      csrfCookie: "csrf_access_token",
    }));
  if (reply.status !== 200 || !reply.body || !Array.isArray(reply.body.recovery_codes)) {
    await mfaRefused("No new recovery codes", reply, "mfa-manage-code");
    return;
  }
  forgetManageForm();
  showRecoveryCodes(reply.body.recovery_codes);
  $("mfa-message").textContent = "New recovery codes: the ones before no longer work.";
}

function forgetManageForm() {
  $("mfa-manage-code").value = "";
  showFieldErrors({ code: "mfa-manage-code" }, null);
}

function showRecoveryCodes(codes) {
  $("mfa-recovery-codes").replaceChildren(...codes.map((code) => {
    const item = document.createElement("li");
    const text = document.createElement("code");
    text.textContent = String(code);
    item.append(text);
    return item;
  }));
  $("mfa-codes").hidden = false;
}

function hideRecoveryCodes() {
  $("mfa-recovery-codes").replaceChildren();
  $("mfa-codes").hidden = true;
}

// An /mfa route's refusal, said where it belongs: beside the field for a wrong code or a body
// the API refused; else in the section's message, with the profile loaded again when the
// session or the factor is not what the page thought (logged out elsewhere, another tab).
async function mfaRefused(prefix, reply, inputId) {
  const said = saidBy(reply);
  let message = `${prefix}: ${describe(reply)}`;
  if (inputId !== null && codeFieldError(inputId, reply)) {
    // Said beside the field, and in the message.
  } else if (reply.status === 401 && (said === "Fresh token required" || said === "Token has expired")) {
    message = `${prefix} (${said}): it takes a recent login, and this session's access token ` +
      "comes from a refresh. Log out and log in again, then try again.";
  } else if (reply.status === 401 || reply.status === 409) {
    await showProfile();
  }
  $("mfa-message").textContent = message;
}

// Puts what the API said of a code beside the field `inputId` (`code`, `recovery_code` or the
// body's errors: one field takes either code); answers whether there was anything to say.
function codeFieldError(inputId, reply) {
  const errors = fieldErrorsOf(reply);
  let messages = null;
  if (errors) {
    messages = Object.values(errors).flatMap((problems) => [].concat(problems));
  } else if (reply.status === 401 && saidBy(reply) === "Invalid code") {
    messages = ["Invalid code"];
  }
  showFieldErrors({ code: inputId }, messages ? { code: messages } : null);
  return messages !== null;
}

// The section as the factor stands. `profile`, when given and not `stale`, says whether it is on.
function renderMfa(profile, stale = false) {
  if (profile && !stale) {
    mfaOn = profile.mfa_enabled === true;
  }
  if (mfaOn) {
    mfaEnrolling = false;
  }
  $("mfa-state").textContent = `Two-factor: ${mfaOn ? "on" : "off"}`;
  $("mfa-session-method").textContent = sessionMethod === null ? ""
    : `This session signed in with ${sessionMethod}.`;
  $("mfa-session-method").hidden = sessionMethod === null;
  $("mfa-off").hidden = mfaOn || mfaEnrolling;
  $("mfa-enrol-form").hidden = mfaOn || !mfaEnrolling;
  $("mfa-manage-form").hidden = !mfaOn;
}

// At logout (or a session that ended): nothing of the factor stays on the page.
function forgetMfa() {
  secondStep = null;
  sessionMethod = null;
  mfaOn = false;
  forgetEnrolment();
  forgetManageForm();
  hideRecoveryCodes();
  $("mfa-message").textContent = "";
}

const SVG_NS = "http://www.w3.org/2000/svg";
// What of the API's QR code is copied, by element: shapes and their colours, nothing that
// could run, link or load (no script, no href, no style, no event handler).
const QR_PARTS = {
  svg: ["viewBox", "width", "height", "shape-rendering"],
  rect: ["x", "y", "width", "height", "fill"],
  path: ["d", "fill"],
};
// Numbers, path commands, names and colours such as #000: no `url(`, no quote, nothing else.
const QR_VALUE = /^[#\w .,-]*$/;

// The QR code of `svgText` (the API's qr_svg) as new SVG elements of this page, or null.
// The page's Content-Security-Policy (default-src 'self', local-api/src/demo.rs) allows no
// data: image, so it cannot be an <img src="data:image/svg+xml;...">; and the API's text never
// becomes markup here (no innerHTML). DOMParser reads it as XML (running and loading nothing),
// and only the shapes of QR_PARTS are copied, attribute by attribute.
function qrImage(svgText) {
  const root = new DOMParser().parseFromString(svgText, "image/svg+xml").documentElement;
  if (root.namespaceURI !== SVG_NS || root.localName !== "svg") {
    return null;
  }
  const copy = (element) => {
    const made = document.createElementNS(SVG_NS, element.localName);
    for (const name of QR_PARTS[element.localName]) {
      const value = element.getAttribute(name);
      if (value !== null && QR_VALUE.test(value)) {
        made.setAttribute(name, value);
      }
    }
    return made;
  };
  const image = copy(root);
  for (const child of root.children) {
    if (child.namespaceURI === SVG_NS && ["rect", "path"].includes(child.localName)) {
      image.append(copy(child));
    }
  }
  image.setAttribute("role", "img");
  image.setAttribute("aria-label", "QR code to scan with an authenticator app");
  return image.querySelector("path") ? image : null;
}

// --- Where you're signed in, and what happened to the account -----------------------------
//
// GET /sessions and GET /account/activity answer a page at a time, newest first, with an
// opaque next_cursor while there may be more: "More" asks for the next page and adds it below.
// Every value in them comes from the API and, through it, from whoever sent it a request: a
// device is parsed from a User-Agent header that any client writes as it likes. So each goes
// into the page as text (textContent, or an attribute), never as markup.

// Items a page: a few, so that "More" shows with a handful of devices.
const SESSIONS_PAGE_SIZE = 5;
const ACTIVITY_PAGE_SIZE = 10;

// A list as shown: the cursor of its next page (null: none), the ids it shows (a page may
// repeat one that moved since the page before), and a count of its loads, so that the answer
// of a load that a newer one superseded (a reload while "More" was on its way, a logout) is
// dropped rather than shown.
function newList() {
  return { cursor: null, shown: new Set(), loads: 0 };
}
const sessionsList = newList();
const activityList = newList();
// Element ids of the session items (for their buttons' descriptions): a counter, never the
// API's ids.
let sessionItems = 0;

// `?limit=…`, and the cursor when there is one.
function pageQuery(limit, cursor) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor !== null) query.set("cursor", cursor);
  return `?${query}`;
}

// Loads the first page of the user's sessions (the list shows that page alone), or with
// `more` the next page, added below what the list shows. A reload drops the answer of any
// load before it; "More" drops none (its answer is dropped if the list is reloaded meanwhile).
async function loadSessions(more = false) {
  const list = sessionsList;
  if (more && list.cursor === null) return;
  const load = more ? list.loads : ++list.loads;
  const path = `/sessions${pageQuery(SESSIONS_PAGE_SIZE, more ? list.cursor : null)}`;
  const reply = await busy(more ? "sessions-more" : "sessions-reload", () =>
    withRefresh(() => callApi("GET", path)));
  if (load !== list.loads) return;
  const sessions = reply.body && reply.body.sessions;
  if (reply.status !== 200 || !Array.isArray(sessions)) {
    await listRefused("sessions-message", "Sessions not loaded", reply);
    return;
  }
  if (!more) {
    $("sessions-list").replaceChildren();
    list.shown.clear();
  }
  for (const session of sessions) {
    if (session && typeof session.id === "string" && !list.shown.has(session.id)) {
      list.shown.add(session.id);
      $("sessions-list").append(sessionItem(session));
    }
  }
  showPaging(list, reply.body.next_cursor, sessions.length, "sessions-more", "sessions-count",
    ["session", "sessions"]);
}

async function loadActivity(more = false) {
  const list = activityList;
  if (more && list.cursor === null) return;
  const load = more ? list.loads : ++list.loads;
  const path = `/account/activity${pageQuery(ACTIVITY_PAGE_SIZE, more ? list.cursor : null)}`;
  const reply = await busy(more ? "activity-more" : "activity-reload", () =>
    withRefresh(() => callApi("GET", path)));
  if (load !== list.loads) return;
  const events = reply.body && reply.body.events;
  if (reply.status !== 200 || !Array.isArray(events)) {
    await listRefused("activity-message", "Activity not loaded", reply);
    return;
  }
  if (!more) {
    $("activity-list").replaceChildren();
    list.shown.clear();
  }
  for (const entry of events) {
    if (entry && typeof entry.id === "string" && !list.shown.has(entry.id)) {
      list.shown.add(entry.id);
      $("activity-list").append(activityRow(entry));
    }
  }
  showPaging(list, events.length ? reply.body.next_cursor : null, events.length,
    "activity-more", "activity-count", ["event", "events"]);
}

// After a page: its "More" button shows while the API says there may be more (an empty page
// says there is none, whatever its cursor), and the count says how many the list shows.
function showPaging(list, nextCursor, pageLength, moreId, countId, [one, many]) {
  list.cursor = typeof nextCursor === "string" && nextCursor && pageLength > 0 ? nextCursor : null;
  $(moreId).hidden = list.cursor === null;
  const count = list.shown.size;
  $(countId).textContent = `${count} ${count === 1 ? one : many} shown` +
    (list.cursor === null ? "." : ", and maybe more: see “More”.");
}

// A list that the API would not give: a 401 (after the refresh and retry) means the session
// is over, which the profile then shows; anything else is said in the section's message.
async function listRefused(messageId, prefix, reply) {
  if (reply.status === 401) {
    await showProfile();
  }
  // Logged out, the page shows nothing of the session any more.
  if (!$(messageId).closest(".screen").hidden) {
    $(messageId).textContent = `${prefix}: ${describe(reply)}`;
  }
}

// One session of GET /sessions as an item of the list: the device, "This device" for the
// caller's own, where and when it signed in, how, and a button that signs it out.
function sessionItem(session) {
  const current = session.current === true;
  const item = document.createElement("li");
  item.className = current ? "entry current" : "entry";
  item.dataset.sessionId = session.id;
  if (current) item.setAttribute("aria-current", "true");

  const title = document.createElement("p");
  title.className = "entry-title";
  title.id = `session-item-${++sessionItems}`;
  const device = document.createElement("strong");
  device.className = "device";
  device.textContent = deviceName(session.device);
  title.append(device);
  if (current) {
    const mark = document.createElement("span");
    mark.className = "this-device";
    mark.textContent = "This device";
    title.append(" ", mark);
  }

  const facts = document.createElement("dl");
  facts.className = "facts";
  addFact(facts, "ip", "IP address", textOr(session.ip_address, "unknown"));
  addFact(facts, "started", "Signed in", timeElement(session.started_at));
  addFact(facts, "refreshed", "Last refreshed", session.last_refreshed_at == null
    ? "not yet" : timeElement(session.last_refreshed_at));
  addFact(facts, "amr", "Signed in with", signInMethod(session.amr));

  const button = document.createElement("button");
  button.type = "button";
  button.className = "sign-out";
  button.textContent = current ? "Sign out this device" : "Sign out";
  // Its accessible name is the action; the device is its description.
  button.setAttribute("aria-describedby", title.id);
  button.addEventListener("click", () => signOutSession(session, button));

  item.append(title, facts, button);
  return item;
}

// A term and its value (a string or a node) in `list`; `name` becomes the pair's class.
function addFact(list, name, term, value) {
  const wrapper = document.createElement("div");
  wrapper.className = `fact-${name}`;
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.append(value);
  wrapper.append(dt, dd);
  list.append(wrapper);
}

// DELETE /sessions/{id}. The caller's own session is a logout: its tokens are refused from
// now on, but the browser still holds their cookies, which only the API can clear (HttpOnly):
// POST /logout does, and answers 200 for a session that has ended already.
async function signOutSession(session, button) {
  $("sessions-message").textContent = "";
  const path = `/sessions/${encodeURIComponent(session.id)}`;
  const reply = await busy(button, () => withRefresh(() =>
    callApi("DELETE", path, { csrfCookie: "csrf_access_token" })));
  if (reply.status === 204 && session.current === true) {
    await logOut();
    return;
  }
  if (reply.status === 204) {
    $("sessions-message").textContent = `Signed out: ${deviceName(session.device)}.`;
  } else if (reply.status === 404) {
    // Ended meanwhile (elsewhere, by an operator, by its own logout): the list was old.
    $("sessions-message").textContent = "That session had ended already.";
  } else {
    await listRefused("sessions-message", "Not signed out", reply);
    return;
  }
  await Promise.all([loadSessions(), loadActivity()]);
}

// POST /logout?scope=others: every session of the user but this one ends.
async function signOutOthers() {
  $("sessions-message").textContent = "";
  const reply = await busy("sessions-others", () => withRefresh(() =>
    callApi("POST", "/logout?scope=others", { csrfCookie: "csrf_access_token" })));
  if (reply.status !== 200) {
    await listRefused("sessions-message", "Not signed out", reply);
    return;
  }
  $("sessions-message").textContent = "Signed out everywhere else: this session goes on.";
  await Promise.all([loadSessions(), loadActivity()]);
}

// One entry of GET /account/activity as a row of the table.
function activityRow(entry) {
  const row = document.createElement("tr");
  row.dataset.eventId = entry.id;
  const cell = (name, ...content) => {
    const td = document.createElement("td");
    td.className = name;
    td.append(...content);
    row.append(td);
    return td;
  };
  cell("when", timeElement(entry.at));
  cell("event", ...labelled(ACTIVITY_EVENTS, entry.event));
  const outcome = cell("outcome", ...labelled(ACTIVITY_OUTCOMES, entry.outcome));
  // A class of the page's own for the colour, never one the API names.
  if (Object.hasOwn(ACTIVITY_OUTCOMES, entry.outcome)) {
    outcome.classList.add(`outcome-${entry.outcome}`);
  }
  cell("detail", ...(entry.detail == null ? ["—"] : labelled(ACTIVITY_DETAILS, entry.detail)));
  cell("ip", textOr(entry.ip_address, "unknown"));
  cell("device", deviceName(entry.device));
  return row;
}

// What the activity log's names mean, for a person. A name not here shows as it came.
const ACTIVITY_EVENTS = {
  login: "Log in",
  login_second_factor: "Second step of a login",
  refresh: "Session refreshed",
  logout: "Log out",
  session_ended: "Session signed out",
  sessions_ended: "Every session signed out",
  password_changed: "Password changed",
  password_reset: "Password reset",
  signup_confirmed: "Address confirmed",
  mfa_enabled: "Two-factor turned on",
  mfa_disabled: "Two-factor turned off",
  recovery_codes_replaced: "New recovery codes",
  account_changed: "Account changed",
};
const ACTIVITY_OUTCOMES = {
  success: "Success",
  failure: "Failed",
  blocked: "Blocked",
};
const ACTIVITY_DETAILS = {
  wrong_password: "wrong password",
  email_not_confirmed: "address not confirmed",
  too_many_attempts: "too many attempts",
  second_factor_required: "second factor asked for",
  wrong_code: "wrong code",
  recovery_code: "with a recovery code",
  reuse_detected: "a used refresh token came back: its session was ended",
  local: "this session",
  others: "every other session",
  global: "every session",
  by_user: "by you",
  by_operator: "by an operator",
  disabled: "disabled by an operator",
  enabled: "enabled by an operator",
  password_set: "password set by an operator",
  mfa_reset: "two-factor reset by an operator",
};

// A name of the API as its meaning and, beside it, the name itself: [text, <code>].
function labelled(meanings, name) {
  const raw = textOr(name, "?");
  const code = document.createElement("code");
  code.className = "raw";
  code.textContent = raw;
  const meaning = Object.hasOwn(meanings, raw) ? meanings[raw] : null;
  return meaning === null ? [code] : [`${meaning} `, code];
}

// "Firefox 133 on Linux" from the API's {"browser", "os"}.
function deviceName(device) {
  const part = (value) => textOr(value, "Unknown");
  const browser = part(device && device.browser);
  const os = part(device && device.os);
  return browser === "Unknown" && os === "Unknown" ? "Unknown device" : `${browser} on ${os}`;
}

// How a session signed in, from its `amr` (RFC 8176's names), and the names themselves.
function signInMethod(amr) {
  const methods = Array.isArray(amr) ? amr.filter((method) => typeof method === "string") : [];
  const names = methods.length ? ` (${methods.join(" ")})` : "";
  if (methods.includes("otp")) return `password and an authenticator app's code${names}`;
  if (methods.includes("mfa")) return `password and a recovery code${names}`;
  if (methods.includes("pwd")) return `password${names}`;
  return methods.length ? methods.join(" ") : "unknown";
}

// A <time> of an RFC 3339 instant, in the reader's own time zone; an instant the browser
// cannot read shows as it came.
function timeElement(instant) {
  const element = document.createElement("time");
  const when = typeof instant === "string" ? new Date(instant) : null;
  if (when === null || Number.isNaN(when.getTime())) {
    element.textContent = textOr(instant, "unknown");
    return element;
  }
  element.dateTime = when.toISOString();
  element.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  return element;
}

// `value` when it is a non-empty string, else `otherwise`.
function textOr(value, otherwise) {
  return typeof value === "string" && value.trim() !== "" ? value : otherwise;
}

// At logout: nothing of the user's sessions or activity stays, and answers on their way are
// dropped (each list's load count moves on).
function forgetSessionsAndActivity() {
  for (const [list, listId, moreId, countId, messageId] of [
    [sessionsList, "sessions-list", "sessions-more", "sessions-count", "sessions-message"],
    [activityList, "activity-list", "activity-more", "activity-count", "activity-message"],
  ]) {
    list.loads += 1;
    list.cursor = null;
    list.shown.clear();
    $(listId).replaceChildren();
    $(moreId).hidden = true;
    $(countId).textContent = "";
    $(messageId).textContent = "";
  }
}

// --- Showing it ---------------------------------------------------------------------------

let reloadTimer = null;

// Shows the screens named (ids of .screen elements) and hides every other.
function showScreen(...ids) {
  for (const screen of document.querySelectorAll(".screen")) {
    screen.hidden = !ids.includes(screen.id);
  }
}

// Shows `screenId` at a user's request, with the focus in its first field.
function goTo(screenId) {
  showScreen(screenId);
  const first = $(screenId).querySelector("input");
  if (first) first.focus();
}

// `mfaCurrent` is false for a profile asked for before the page last changed the second
// factor: what it says of the factor is out of date.
function showLoggedIn(profile, mfaCurrent = true) {
  setStatus(`Logged in as ${profile.logged_in_as}`, "ok");
  $("profile").textContent = JSON.stringify(profile, null, 2);
  $("profile-loads").textContent = String(Number($("profile-loads").textContent) + 1);
  // The next login, after a logout, is most likely this user's.
  $("username").value = profile.logged_in_as;
  if ($("session").hidden) {
    showScreen("session", "password-form", "mfa-section", "sessions-section", "activity-section");
    $("password-message").textContent = "";
    // Loaded once a login shows them (and at each user's request): not with every reload of
    // the profile, which would undo "More".
    loadSessions();
    loadActivity();
  }
  renderMfa(profile, !mfaCurrent);
  // Reload the profile by itself every few seconds: once the access token has expired, the
  // next load gets a 401 and refreshes.
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(showProfile, RELOAD_PROFILE_MS);
}

function showLoggedOut(message, kind) {
  clearTimeout(reloadTimer);
  setStatus(message, kind);
  forgetMfa();
  forgetSessionsAndActivity();
  $("profile").textContent = "";
  $("current-password").value = "";
  $("new-password").value = "";
  showFieldErrors({ current_password: "current-password", new_password: "new-password" }, null);
  showScreen("login-form");
}

// The status line; `kind` colours it: "ok", or "problem" for a failure.
function setStatus(text, kind = text.includes("failed") || text.includes("refuses") ? "problem" : "") {
  $("status").textContent = text;
  $("status").className = kind;
}

// What the API said, for a person: its msg or error (a schema's errors field by field), else
// what happened; and when to try again, if it said.
function describe(reply) {
  const said = saidBy(reply);
  return reply.retryAfter ? `${said} (try again in ${reply.retryAfter} s)` : said;
}

function saidBy(reply) {
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

// The API's messages field by field ({"error": {"password": ["…"]}}), or null.
function fieldErrorsOf(reply) {
  const error = reply.body && reply.body.error;
  return error && typeof error === "object" ? error : null;
}

// Puts the API's messages beside the fields they are about: `fields` maps the API's field
// names to input ids, each with a `<input id>-error` element that its aria-describedby names.
// Clears the others; moves the focus to the first field in error. Answers whether any was.
function showFieldErrors(fields, errors) {
  let first = null;
  for (const [name, inputId] of Object.entries(fields)) {
    const problems = errors ? errors[name] : undefined;
    const message = problems === undefined ? "" : [].concat(problems).join(" ");
    const error = $(`${inputId}-error`);
    error.textContent = message;
    error.hidden = !message;
    if (message) {
      $(inputId).setAttribute("aria-invalid", "true");
      first = first || $(inputId);
    } else {
      $(inputId).removeAttribute("aria-invalid");
    }
  }
  if (first) first.focus();
  return first !== null;
}

// Runs `call` with the button (or buttons: an id, an element, or a list) disabled: no second
// request from a second click, nor another request of the same form meanwhile.
async function busy(buttonIds, call) {
  const buttons = [].concat(buttonIds).map((button) => typeof button === "string" ? $(button) : button);
  for (const button of buttons) button.disabled = true;
  try {
    return await call();
  } finally {
    for (const button of buttons) button.disabled = false;
  }
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

// The session if there is one, else the login form. The csrf_* cookies come and go with the
// token cookies: with neither, there is no session to resume and no need to ask. With them (a
// reload of the page), the session goes on.
async function resumeSession() {
  if (readCookie("csrf_access_token") !== null || readCookie("csrf_refresh_token") !== null) {
    await showProfile();
  } else {
    showLoggedOut("You are logged out");
  }
}

// A mailed link's purpose and token, taken out of the address bar (the rest of the URL, such
// as ?api=, stays); null when the page was not opened from a link.
function takeMailedLink() {
  const url = new URL(location.href);
  const type = url.searchParams.get("type");
  const token = url.searchParams.get("token");
  if (type === null && token === null) {
    return null;
  }
  url.searchParams.delete("type");
  url.searchParams.delete("token");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  return { type, token };
}

// --- Start ----------------------------------------------------------------------------------

$("api-base").textContent = API;
$("login-form").addEventListener("submit", logIn);
$("reload-button").addEventListener("click", showProfile);
$("logout-button").addEventListener("click", logOut);
$("signup-form").addEventListener("submit", signUp);
$("forgot-form").addEventListener("submit", askForReset);
$("password-form").addEventListener("submit", changePassword);
$("mfa-login-form").addEventListener("submit", logInSecondStep);
$("mfa-login-toggle").addEventListener("click", () => {
  if (secondStep === null) return;
  setSecondStepKind(!secondStep.recovery);
  $("mfa-login-code").value = "";
  showFieldErrors({ code: "mfa-login-code" }, null);
  $("mfa-login-code").focus();
});
$("mfa-begin-button").addEventListener("click", beginEnrolment);
$("mfa-enrol-form").addEventListener("submit", confirmEnrolment);
$("mfa-cancel-button").addEventListener("click", cancelEnrolment);
$("mfa-codes-done").addEventListener("click", hideRecoveryCodes);
$("mfa-manage-form").addEventListener("submit", turnOff);
$("mfa-new-codes-button").addEventListener("click", newRecoveryCodes);
$("sessions-reload").addEventListener("click", () => {
  $("sessions-message").textContent = "";
  loadSessions();
});
$("sessions-more").addEventListener("click", () => loadSessions(true));
$("sessions-others").addEventListener("click", signOutOthers);
$("activity-reload").addEventListener("click", () => {
  $("activity-message").textContent = "";
  loadActivity();
});
$("activity-more").addEventListener("click", () => loadActivity(true));
$("show-signup").addEventListener("click", () => goTo("signup-form"));
$("show-forgot").addEventListener("click", () => {
  // A name that is an address is most likely the one to reset.
  if ($("username").value.includes("@") && !$("forgot-email").value) {
    $("forgot-email").value = $("username").value;
  }
  $("forgot-message").textContent = "";
  goTo("forgot-form");
});
for (const button of document.querySelectorAll(".to-login")) {
  button.addEventListener("click", async () => {
    await resumeSession();
    if (!$("login-form").hidden) $("username").focus();
  });
}
$("resend-button").addEventListener("click", () =>
  resendConfirmation($("signup-sent-to").textContent, "resend-button", "resend-message"));
$("link-resend-form").addEventListener("submit", (event) => {
  event.preventDefault();
  resendConfirmation($("link-resend-email").value.trim(), "link-resend-button", "link-resend-message");
});
showReadableCookies();
const link = takeMailedLink();
if (link !== null && link.token && link.type === "signup") {
  showConfirmScreen(link.token);
} else if (link !== null && link.token && link.type === "recovery") {
  checkResetLink(link.token);
} else if (link !== null) {
  showLoggedOut("This link is incomplete: open the whole link from the mail", "problem");
} else {
  resumeSession();
}
