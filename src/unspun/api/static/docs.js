// Renders /openapi.json as a plain reference page (no third-party UI, nothing from a CDN).
"use strict";

(function () {
  const main = document.getElementById("docs");

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function resolve(schema, spec) {
    if (schema && schema.$ref) {
      const name = schema.$ref.split("/").pop();
      return { name: name, schema: spec.components.schemas[name] };
    }
    return { name: null, schema: schema || {} };
  }

  function typeOf(schema, spec) {
    if (!schema) return "";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.anyOf) return schema.anyOf.map((s) => typeOf(s, spec)).join(" | ");
    if (schema.type === "array") return "list of " + typeOf(schema.items, spec);
    return schema.type || "object";
  }

  function fieldsTable(schema, spec) {
    const properties = schema.properties || {};
    const required = new Set(schema.required || []);
    const table = el("table");
    const head = el("tr");
    for (const h of ["Field", "Type", "Meaning"]) head.append(el("th", h));
    table.append(head);
    for (const [name, property] of Object.entries(properties)) {
      const row = el("tr");
      row.append(el("td", name + (required.has(name) ? " (required)" : "")));
      row.append(el("td", typeOf(property, spec)));
      row.append(el("td", property.description || ""));
      table.append(row);
    }
    const wrap = el("div", null, "table-wrap");
    wrap.append(table);
    return wrap;
  }

  function render(spec) {
    main.replaceChildren();
    const intro = el("section", null, "panel");
    intro.append(el("p", spec.info.description || spec.info.summary || ""));
    intro.append(el("p", "Version " + spec.info.version, "muted"));
    main.append(intro);
    for (const [path, operations] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const section = el("section", null, "panel");
        section.append(el("h2", method.toUpperCase() + " " + path));
        if (operation.summary) section.append(el("p", operation.summary, "percentile"));
        if (operation.description) section.append(el("p", operation.description));
        const body = operation.requestBody && operation.requestBody.content["application/json"];
        if (body) {
          const { name, schema } = resolve(body.schema, spec);
          section.append(el("h3", "Request body" + (name ? ": " + name : "")));
          if (schema.description) section.append(el("p", schema.description, "muted"));
          section.append(fieldsTable(schema, spec));
          const example = {};
          if (schema.properties && schema.properties.text) example.text = "Paragraph one.\n\nParagraph two.";
          if (schema.properties && schema.properties.articles) example.articles = [{ text: "…" }];
          section.append(el("h3", "Example"));
          section.append(el("pre", "curl -s -X " + method.toUpperCase() + " http://127.0.0.1:8000" + path
            + " -H 'Content-Type: application/json' -d '" + JSON.stringify(example) + "'"));
        }
        section.append(el("h3", "Answers"));
        const list = el("ul");
        for (const [code, response] of Object.entries(operation.responses || {})) {
          list.append(el("li", code + ": " + (response.description || "")));
        }
        section.append(list);
        main.append(section);
      }
    }
  }

  fetch("openapi.json")
    .then((response) => response.json())
    .then(render)
    .catch((error) => {
      document.getElementById("docs-status").textContent = "Could not load the schema: " + error.message;
    });
})();
