// Where the API is, for a copy of demo/ served by any static server (python3 -m http.server
// 8001 --directory demo): ?api=http://localhost:3000 in the page's URL, else the default below.
// local-api serves the page itself with DEMO_PORT, and answers /config.js with its own URL.
window.DEMO_CONFIG = {
  apiBase: new URLSearchParams(location.search).get("api") || "http://localhost:3000",
  // How often the page reloads the profile by itself while logged in.
  reloadProfileSeconds: 2,
};
