// /api/docs: starts the vendored Swagger UI on this node's generated contract. Kept out of the
// page so the Content-Security-Policy needs no inline script.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
