// Swagger UI for /docs, started from a file (the page's Content-Security-Policy forbids inline script).
// The OpenAPI URL comes from the page; the online validator badge is off (nothing leaves this host).
"use strict";
(function () {
  const element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
