// Starts Swagger UI on /docs.  A static file rather than an inline script, so the page's
// Content-Security-Policy can forbid inline scripts altogether; settings come from data- attributes.
(function () {
  "use strict";
  var box = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: box.dataset.specUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    oauth2RedirectUrl: window.location.origin + box.dataset.oauth2RedirectUrl,
    validatorUrl: null, // never ask validator.swagger.io (intranets have no internet)
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
