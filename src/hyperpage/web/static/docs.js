// Starts the vendored Swagger UI on /docs; a file, not an inline script, so the CSP stays strict.
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
