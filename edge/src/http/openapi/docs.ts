/** The reference page served at GET /docs: plain DOM, no dependencies; text is set with textContent (never innerHTML). */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>reelmesh API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem 1.5rem;color:#1d1d1f}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;margin-top:2.5rem}code,pre,.s{font-family:ui-monospace,monospace;font-size:13px}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.6rem .9rem}.op h3{margin:.2rem 0;font-size:16px}
.m{display:inline-block;min-width:3.6rem;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:1px 6px;margin-right:.5rem}
.get{background:#2f7d32}.post{background:#1565c0}.other{background:#6d4c41}
table{border-collapse:collapse;width:100%;margin:.3rem 0}td,th{border-top:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
.s{white-space:pre-wrap;background:#f6f8fa;border-radius:4px;padding:.4rem .6rem;margin:.3rem 0}.d{color:#555}.req{color:#b00}
a{color:#1565c0}nav a{margin-right:.8rem}
</style></head>
<body><h1 id="title">reelmesh API</h1><p id="desc" class="d">Loading /openapi.json…</p><nav id="nav"></nav><main id="main"></main>
<script>
(function () {
  "use strict";
  function h(tag, attrs) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) el.setAttribute(k, attrs[k]);
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null || c === false) continue;
      el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  var doc;
  function resolve(o) {
    var seen = 0;
    while (o && o.$ref && seen++ < 20) o = o.$ref.slice(2).split("/").reduce(function (x, k) { return x && x[k.replace(/~1/g, "/").replace(/~0/g, "~")]; }, doc);
    return o || {};
  }
  function refName(r) { return r.split("/").pop(); }
  // One-line summary of a schema: type, format, bounds, enum, default.
  function brief(s) {
    if (s.$ref) return refName(s.$ref);
    var alts = s.anyOf || s.oneOf;
    if (alts) return alts.map(brief).join(" | ");
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.enum) return s.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    var t = Array.isArray(s.type) ? s.type.join(" | ") : s.type || "any";
    if (t === "array") t = (s.items ? brief(s.items) : "any") + "[]";
    if (t === "object" && !s.properties && s.additionalProperties && typeof s.additionalProperties === "object") t = "{ [key]: " + brief(s.additionalProperties) + " }";
    var extra = [];
    ["format", "pattern", "minimum", "maximum", "minLength", "maxLength", "contentMediaType"].forEach(function (k) { if (s[k] !== undefined && Math.abs(s[k]) !== 9007199254740991) extra.push(k + " " + s[k]); });
    if (s.default !== undefined) extra.push("default " + JSON.stringify(s.default));
    return t + (extra.length ? " (" + extra.join(", ") + ")" : "");
  }
  // Multi-line view: the properties of an object (one level of $ref expanded), or the variants of a union.
  function tree(s, indent, depth) {
    var lines = [], pad = new Array(indent + 1).join("  ");
    var r = resolve(s);
    if (s.$ref && depth > 0) return [pad + refName(s.$ref)];
    if (r.description && depth === 0) lines.push(pad + "// " + r.description);
    var alts = r.oneOf || r.anyOf;
    if (alts && alts.some(function (a) { return resolve(a).properties; })) {
      alts.forEach(function (a, i) { lines.push(pad + "variant " + (i + 1) + ":"); lines = lines.concat(tree(a, indent + 1, depth)); });
      return lines;
    }
    if (!r.properties) { lines.push(pad + brief(r)); return lines; }
    var req = r.required || [];
    lines.push(pad + "{" + (r.additionalProperties === false ? "  (no other fields)" : ""));
    Object.keys(r.properties).forEach(function (k) {
      var p = r.properties[k], rp = resolve(p);
      var line = pad + "  " + k + (req.indexOf(k) >= 0 ? "" : "?") + ": " + brief(p) + (rp.description && !p.$ref ? "  // " + rp.description : "");
      lines.push(line);
      if (!p.$ref && rp.properties) lines = lines.concat(tree(p, indent + 2, depth + 1));
      if (!p.$ref && rp.type === "array" && rp.items && resolve(rp.items).properties && !rp.items.$ref) lines = lines.concat(tree(rp.items, indent + 2, depth + 1));
    });
    lines.push(pad + "}");
    return lines;
  }
  function schemaBlock(s) { return h("div", { class: "s" }, tree(s, 0, 0).join("\\n")); }
  function content(c) {
    var out = h("div");
    Object.keys(c || {}).forEach(function (type) {
      var m = c[type];
      out.appendChild(h("div", null, h("code", null, type), m.schema && m.schema.$ref ? h("span", null, " → ", h("a", { href: "#schema-" + refName(m.schema.$ref) }, refName(m.schema.$ref))) : null));
      if (m.schema) out.appendChild(schemaBlock(m.schema));
      if (m["x-event-data"]) { out.appendChild(h("div", null, "each event's data:")); out.appendChild(schemaBlock(m["x-event-data"])); }
    });
    return out;
  }
  function operation(path, method, op, pathItem) {
    var box = h("section", { class: "op", id: op.operationId || method + path });
    box.appendChild(h("h3", null, h("span", { class: "m " + (method === "get" || method === "post" ? method : "other") }, method.toUpperCase()), h("code", null, path), " ", h("span", { class: "d" }, op.summary || "")));
    if (op.description) box.appendChild(h("p", { class: "d" }, op.description));
    var sec = op.security || doc.security || [];
    box.appendChild(h("div", null, "Auth: ", sec.length ? sec.map(function (r) { return Object.keys(r).join(" + "); }).join(" or ") : "none"));
    var params = (pathItem.parameters || []).concat(op.parameters || []).map(resolve);
    if (params.length) {
      var t = h("table", null, h("tr", null, h("th", null, "Parameter"), h("th", null, "In"), h("th", null, "Schema"), h("th", null, "Description")));
      params.forEach(function (p) { t.appendChild(h("tr", null, h("td", null, h("code", null, p.name), p.required ? h("span", { class: "req" }, " *") : null), h("td", null, p.in), h("td", { class: "s" }, brief(p.schema || {})), h("td", { class: "d" }, p.description || ""))); });
      box.appendChild(t);
    }
    if (op.requestBody) { var rb = resolve(op.requestBody); box.appendChild(h("h4", null, "Request body" + (rb.required ? " (required)" : ""))); box.appendChild(content(rb.content)); }
    box.appendChild(h("h4", null, "Responses"));
    Object.keys(op.responses || {}).forEach(function (code) {
      var r = resolve(op.responses[code]);
      box.appendChild(h("div", null, h("b", null, code), " ", h("span", { class: "d" }, r.description || ""), r.headers ? h("span", { class: "d" }, " — headers: " + Object.keys(r.headers).join(", ")) : null));
      if (r.content && !(r.content["application/problem+json"])) box.appendChild(content(r.content));
    });
    return box;
  }
  function render() {
    var main = document.getElementById("main"), nav = document.getElementById("nav");
    document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
    document.getElementById("desc").textContent = doc.info.description || "";
    var methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
    [["Paths", doc.paths || {}], ["Webhooks (sent by the service)", doc.webhooks || {}]].forEach(function (group) {
      main.appendChild(h("h2", { id: group[0].split(" ")[0].toLowerCase() }, group[0]));
      nav.appendChild(h("a", { href: "#" + group[0].split(" ")[0].toLowerCase() }, group[0].split(" ")[0]));
      Object.keys(group[1]).forEach(function (p) { var item = group[1][p]; methods.forEach(function (m) { if (item[m]) main.appendChild(operation(p, m, item[m], item)); }); });
    });
    main.appendChild(h("h2", { id: "schemas" }, "Schemas"));
    nav.appendChild(h("a", { href: "#schemas" }, "Schemas"));
    main.appendChild(h("p", { class: "d" }, "Errors are application/problem+json: see Problem. \\"?\\" marks an optional field."));
    var schemas = (doc.components && doc.components.schemas) || {};
    Object.keys(schemas).forEach(function (n) { main.appendChild(h("h3", { id: "schema-" + n }, n)); main.appendChild(schemaBlock(schemas[n])); });
  }
  fetch("/openapi.json").then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(function (d) { doc = d; render(); })
    .catch(function (e) { document.getElementById("desc").textContent = "Could not load /openapi.json: " + e.message; });
})();
</script></body></html>
`;
