// Where the API is, for a copy of demo/ served by any static server (python3 -m http.server
// 8001 --directory demo): ?api=http://localhost:3000 in the page's URL, else the default below.
// Only an API on this machine is taken from the URL: a link with ?api=https://elsewhere would
// otherwise send the password typed into the form to whoever runs elsewhere.
// local-api serves the page itself with DEMO_PORT, and answers /config.js with its own URL.
const requestedApi = new URLSearchParams(location.search).get("api");
const onThisMachine = (url) => {
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === "http:" && ["localhost", "127.0.0.1"].includes(hostname);
  } catch {
    return false;
  }
};
window.DEMO_CONFIG = {
  apiBase: requestedApi && onThisMachine(requestedApi) ? requestedApi : "http://localhost:3000",
  // How often the page reloads the profile by itself while logged in.
  reloadProfileSeconds: 2,
};
