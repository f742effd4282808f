// Loaded on /redoc before ReDoc's bundle.  ReDoc 2 always draws Redocly's logo in its menu
// footer from https://cdn.redoc.ly/redoc/logo-mini.svg (no option turns it off): on an intranet
// that is a request that cannot succeed and, under the page's Content-Security-Policy, a
// violation on every page view.  The logo's URL is swapped for an empty inline image here.
(function () {
  "use strict";
  var CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  var BLANK = "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20width='1'%20height='1'/%3E";
  var local = function (value) {
    return String(value) === CDN_LOGO ? BLANK : value;
  };
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    return setAttribute.call(this, name, name === "src" ? local(value) : value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      src.set.call(this, local(value));
    },
  });
})();
