// The unspun page: sends the pasted or dropped article to POST /v1/check and renders the report.
// Everything from the report is inserted as text (never as HTML), so an article cannot inject markup.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("check-form");
  const input = $("article-input");
  const fileInput = $("file-input");
  const status = $("status");
  const checkButton = $("check-button");
  const tip = $("tip");
  let lastReport = null;
  let limits = { max_body_bytes: 1000000 };

  const VERDICT_WORDS = {
    machine: "Likely machine-written",
    not_flagged: "Not flagged as machine-written",
    uncertain: "Uncertain",
  };
  const ASSESSMENT_WORDS = {
    likely_spun: "Likely spun",
    possibly_spun: "Possibly spun",
    no_sign: "No sign of spinning",
    uncertain: "Uncertain",
  };

  // GLTR's buckets: where the actual token sat in the model's ranking (1 = its top guess).
  const RANK_BUCKETS = [
    { max: 10, css: "rank-10", label: "top 10" },
    { max: 100, css: "rank-100", label: "top 100" },
    { max: 1000, css: "rank-1000", label: "top 1000" },
    { max: Infinity, css: "rank-rest", label: "beyond 1000" },
  ];

  function percent(value, digits) {
    return (value * 100).toFixed(digits === undefined ? 0 : digits) + "%";
  }

  // 96% / 99.4% / 99.97%: decimals near the top, so a share below one never reads as 100%;
  // ``minDigits`` 1 where two figures are compared (a passage against a threshold).
  function share(value, minDigits) {
    if (value >= 1) return "100%";
    let digits = Math.max(minDigits || 0, value < 0.99 ? 0 : 1);
    while (digits < 4 && Number((value * 100).toFixed(digits)) >= 100) digits += 1;
    return (value * 100).toFixed(digits) + "%";
  }

  function known(value) {
    return value !== null && value !== undefined;
  }

  // What the human percentile means against people's writing (the terminal report says the same).
  function scoreInWords(report) {
    const calibration = report.calibration;
    if (!known(report.human_percentile) || !calibration) return "";
    let text = "it scores higher than " + (report.human_percentile >= 1
      ? "all " + calibration.human_texts + " human reference texts"
      : share(report.human_percentile) + " of the " + calibration.human_texts
        + " human reference texts");
    if (known(report.threshold)) {
      const flagged = calibration.false_positive_rate;
      text += "; it would be flagged only above "
        + (flagged <= 0 ? "all" : share(1 - flagged)) + " of them";
    }
    return text;
  }

  // What the threshold rests on: how many human reference texts reach it, with the 95% interval.
  function measured(calibration) {
    if (!calibration) return "";
    return " Measured: " + calibration.flagged + " of " + calibration.human_texts
      + " human reference texts reach it (" + percent(calibration.false_positive_rate, 1)
      + ", 95% interval " + percent(calibration.interval[0], 1) + "-"
      + percent(calibration.interval[1], 1) + ").";
  }

  function oneIn(rate) {
    return rate > 0 ? "1 in " + Math.max(1, Math.round(1 / rate)).toLocaleString("en") : "none";
  }

  // A passage on the verdict's own scale, so the body never looks surer than the verdict:
  // machine-like only at or above the document threshold, grey zone below it, otherwise neutral.
  function passageLevel(report, score) {
    if (known(report.threshold) && score >= report.threshold) return "high";
    if (known(report.grey_threshold) && score >= report.grey_threshold) return "grey";
    return "below";
  }
  const PASSAGE_WORDS = {
    high: "at or above the threshold",
    grey: "in the grey zone, below the threshold",
    below: "below the grey zone",
  };

  function setStatus(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
    status.setAttribute("role", isError ? "alert" : "status");
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function looksLikeHtml(text) {
    return /^\s*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<article[\s>])/i.test(text);
  }

  function apiHeaders() {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const key = $("api-key-input").value.trim();
    if (key) headers["X-API-Key"] = key;
    return headers;
  }

  async function loadHealth() {
    try {
      const response = await fetch("v1/health", { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const health = await response.json();
      limits = health.limits || limits;
      $("key-row").hidden = !health.auth;
    } catch (error) {
      // The page still works without it; the check itself will report a failure.
    }
  }

  async function readFile(file) {
    if (!file) return;
    if (!/\.(txt|html?)$/i.test(file.name) && !/^text\/(plain|html)/.test(file.type)) {
      setStatus("Only .txt and .html files can be checked: " + file.name, true);
      return;
    }
    if (file.size > limits.max_body_bytes) {
      setStatus("The file is too large (" + file.size.toLocaleString("en") + " bytes; the limit is "
        + limits.max_body_bytes.toLocaleString("en") + ").", true);
      return;
    }
    input.value = await file.text();
    setStatus("Loaded " + file.name + ". Press Check.");
  }

  async function submit(event) {
    event.preventDefault();
    const text = input.value;
    const pageUrl = $("page-url-input").value.trim();
    if (!text.trim() && !pageUrl) {
      setStatus("Paste an article first, or give the address of a page.", true);
      input.focus();
      return;
    }
    // An empty article box with an address: the server fetches the page.
    const payload = !text.trim() ? { url: pageUrl }
      : looksLikeHtml(text) ? { html: text } : { text: text };
    for (const name of ["title", "author", "date", "url"]) {
      const value = $(name + "-input").value.trim();
      if (value && !(name === "url" && payload.url)) payload[name] = value;
    }
    checkButton.disabled = true;
    form.setAttribute("aria-busy", "true");
    setStatus(payload.url && !text.trim() ? "Fetching and checking the page…" : "Checking…");
    try {
      const response = await fetch("v1/check", {
        method: "POST",
        headers: apiHeaders(),
        body: JSON.stringify(payload),
      });
      let body = null;
      try {
        body = await response.json();
      } catch (error) {
        body = null;
      }
      if (!response.ok) {
        const message = body && body.error ? body.error.message : "HTTP " + response.status;
        if (response.status === 401) $("key-row").hidden = false;
        if (response.status === 503) {
          const wait = response.headers.get("Retry-After");
          setStatus("The server is busy: " + message + (wait ? " (retry in " + wait + " s)" : ""), true);
        } else if (payload.url && !payload.text && !payload.html) {
          setStatus("Could not check the page: " + message, true);
        } else {
          setStatus("Could not check the article: " + message, true);
        }
        return;
      }
      lastReport = body;
      render(body);
      setStatus("Done.");
      $(lastReport.assessment ? "assessment-heading" : "verdict-heading").focus();
    } catch (error) {
      setStatus("Could not reach the server: " + error.message, true);
    } finally {
      checkButton.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }

  function renderAssessment(report) {
    const assessment = report.assessment;
    const card = $("assessment-card");
    card.hidden = !assessment;
    if (!assessment) return;
    card.className = "assessment-card assessment-" + assessment.label;
    $("assessment-heading").textContent = ASSESSMENT_WORDS[assessment.label] || assessment.label;
    $("assessment-summary").textContent = assessment.summary;
    const list = $("assessment-evidence");
    list.replaceChildren();
    for (const evidence of assessment.evidence) {
      const against = evidence.points_to === "not_spun";
      const item = el("li");
      item.append(
        el("span", against ? "against" : evidence.strength,
          "strength strength-" + (against ? "against" : evidence.strength)),
        document.createTextNode(" "),
        el("strong", evidence.kind),
        document.createTextNode(": " + evidence.message),
      );
      list.append(item);
    }
    const claimsLine = $("claims-line");
    claimsLine.hidden = !report.claims_summary;
    claimsLine.textContent = report.claims_summary ? "Claims: " + report.claims_summary : "";
  }

  function render(report) {
    $("result").hidden = false;
    renderAssessment(report);
    const card = $("verdict-card");
    card.className = "verdict-card verdict-" + report.verdict;
    $("verdict-heading").textContent = VERDICT_WORDS[report.verdict] || report.verdict;

    const percentile = report.human_percentile;
    const meaning = scoreInWords(report);
    $("percentile").textContent = percentile === null || percentile === undefined
      ? "No calibration for this detector; raw score "
        + Number(report.scores[report.detector.name]).toFixed(3) + "."
      : "Human percentile " + share(percentile) + (meaning ? " — " + meaning : "")
        + " (a rank among people's texts, not a probability).";
    $("fpr").textContent = "Threshold set so that about " + oneIn(report.target_fpr)
      + " human-written articles is flagged (false-positive rate " + percent(report.target_fpr, 1)
      + (report.threshold !== null && report.threshold !== undefined
        ? "; flagged from a human percentile of " + share(report.threshold, 1)
        : "") + ")."
      + measured(report.calibration);
    $("reason").textContent = report.reason ? "Why: " + report.reason : "";
    const info = report.detector;
    $("detector-line").textContent = "Detector: " + info.name + " "
      + info.version + " · "
      + counted(countWords(report.article.body), "word")
      + (info.model ? " · language model " + info.model + " (" + (info.dtype || "default") + ")" : "")
      + (info.tokens_not_scored
        ? " · read the first " + info.tokens_scored + " tokens, " + info.tokens_not_scored
          + " not scored"
        : "")
      + (info.chars_not_scored
        ? " · a very long text: scored its first " + info.chars_scored.toLocaleString("en")
          + " characters, " + info.chars_not_scored.toLocaleString("en") + " not scored"
        : "");

    const fetchLine = $("fetch-line");
    const fetched = report.fetch;
    fetchLine.hidden = !fetched;
    fetchLine.textContent = fetched
      ? "Fetched " + fetched.final_url + " (HTTP " + fetched.status + ", " + fetched.fetched_at
        + (fetched.redirects ? ", " + counted(fetched.redirects, "redirect") : "") + ")"
        + (report.article.site ? " · site " + report.article.site : "")
        + (report.article.date ? " · published " + report.article.date : "")
      : "";

    renderSignals(report.signals || []);
    const tokensRadio = $("tokens-radio");
    tokensRadio.disabled = !report.tokens || report.tokens.length === 0;
    tokensRadio.parentElement.title = tokensRadio.disabled
      ? "This detector gives no per-token evidence" : "";
    if (tokensRadio.disabled) document.querySelector('input[value="passages"]').checked = true;
    renderBody();
    renderSources(report.sources);
    renderClaims(report.claims, report.claims_summary);
  }

  function renderSignals(signals) {
    const list = $("signals");
    list.replaceChildren();
    $("signals-section").hidden = signals.length === 0;
    for (const signal of signals) {
      const item = el("li");
      item.append(el("strong", signal.id.replace(/_/g, " ")), document.createTextNode(": "
        + signal.message + (signal.count > 1 ? " (" + signal.count + "×)" : "")));
      if (signal.text) item.append(el("q", signal.text.length > 200
        ? signal.text.slice(0, 200) + "…" : signal.text));
      list.append(item);
    }
  }

  function currentView() {
    const chosen = document.querySelector('input[name="view"]:checked');
    return chosen ? chosen.value : "passages";
  }

  // Lays non-overlapping spans over the body text; gaps between spans stay plain text.
  function layOut(body, spans, makeSpan) {
    const container = $("article-body");
    container.replaceChildren();
    const sorted = spans.slice().sort((a, b) => a.start - b.start);
    let cursor = 0;
    for (const span of sorted) {
      const start = Math.max(span.start, cursor);
      const end = Math.min(span.end, body.length);
      if (end <= start) continue;
      if (start > cursor) container.append(document.createTextNode(body.slice(cursor, start)));
      container.append(makeSpan(span, body.slice(start, end)));
      cursor = end;
    }
    if (cursor < body.length) container.append(document.createTextNode(body.slice(cursor)));
  }

  function renderBody() {
    if (!lastReport) return;
    const body = lastReport.article.body;
    const legend = $("legend");
    legend.replaceChildren();
    if (currentView() === "tokens" && lastReport.tokens) {
      $("body-hint").textContent = "Each word is coloured by where it sat in the language model's "
        + "ranking of likely next words; hover over one for its rank and log-probability.";
      for (const bucket of RANK_BUCKETS) legend.append(el("span", bucket.label, "swatch " + bucket.css));
      layOut(body, lastReport.tokens, (token, text) => {
        const bucket = RANK_BUCKETS.find((b) => token.rank <= b.max);
        const node = el("span", text, "token " + bucket.css);
        node.dataset.tip = "rank " + token.rank + " (" + bucket.label + ") · log-probability "
          + fixed(token.logprob, 2) + " · entropy " + fixed(token.entropy, 2);
        return node;
      });
      return;
    }
    $("body-hint").textContent = "Hover over or tab to a passage to see its score.";
    const report = lastReport;
    if (known(report.threshold)) {
      legend.append(el("span", "machine-like: " + share(report.threshold, 1)
        + " or more (the threshold)", "swatch passage-high"));
      if (known(report.grey_threshold)) {
        legend.append(el("span", "grey zone: " + share(report.grey_threshold, 1) + " to "
          + share(report.threshold, 1), "swatch passage-grey"));
      }
      legend.append(el("span", "below the grey zone", "swatch passage-below"));
    } else {
      legend.append(el("span", "not coloured: this detector has no calibrated threshold",
        "swatch passage-below"));
    }
    layOut(body, report.passages || [], (passage, text) => {
      const level = passageLevel(report, passage.score);
      const node = el("mark", text, "passage passage-" + level);
      node.tabIndex = 0;
      node.dataset.score = passage.score;
      node.dataset.tip = "passage score " + share(passage.score, 1) + " machine-like, "
        + PASSAGE_WORDS[level];
      node.setAttribute("aria-label", "Passage, " + share(passage.score, 1) + " machine-like, "
        + PASSAGE_WORDS[level] + ": " + text);
      return node;
    });
  }

  function fixed(value, digits) {
    return value === null || value === undefined ? "n/a" : Number(value).toFixed(digits);
  }

  function table(node, headings, rows) {
    node.replaceChildren();
    const head = el("thead");
    const headRow = el("tr");
    for (const heading of headings) {
      const cell = el("th", heading);
      cell.scope = "col";
      headRow.append(cell);
    }
    head.append(headRow);
    const bodyNode = el("tbody");
    for (const row of rows) {
      const tr = el("tr");
      row.forEach((cell, index) => {
        const td = el("td");
        td.dataset.label = headings[index];
        if (cell instanceof Node) td.append(cell);
        else td.textContent = cell === null || cell === undefined ? "" : String(cell);
        tr.append(td);
      });
      bodyNode.append(tr);
    }
    node.append(head, bodyNode);
  }

  function renderSources(sources) {
    $("sources-section").hidden = !sources || sources.length === 0;
    if (!sources || sources.length === 0) return;
    table($("sources"), ["Source", "Date", "Match", "Why"], sources.map((source) => {
      let title = el("span", source.title || source.id);
      if (source.url && /^https?:\/\//i.test(source.url)) {
        title = el("a", source.title || source.url);
        title.href = source.url;
        title.rel = "noopener noreferrer";
        title.target = "_blank";
      }
      return [title, source.date, percent(source.score), source.reason];
    }));
  }

  function renderClaims(claims, summary) {
    $("claims-section").hidden = !claims || claims.length === 0;
    if (!claims || claims.length === 0) return;
    $("claims-summary").textContent = summary || "";
    table($("claims"), ["Claim", "Status", "Evidence", "Why"], claims.map((claim) => [
      claim.text,
      el("span", claim.status.replace(/_/g, " "), "claim-status status-" + claim.status),
      claim.evidence ? claim.evidence.text : "",
      claim.reason,
    ]));
  }

  function download() {
    if (!lastReport) return;
    const blob = new Blob([JSON.stringify(lastReport, null, 2) + "\n"], { type: "application/json" });
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = "unspun-report.json";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  function showTip(target) {
    if (!target || !target.dataset || !target.dataset.tip) return;
    tip.textContent = target.dataset.tip;
    tip.hidden = false;
    const box = target.getBoundingClientRect();
    const left = Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8);
    tip.style.left = Math.max(window.scrollX + 4, left) + "px";
    tip.style.top = window.scrollY + box.bottom + 6 + "px";
  }

  function hideTip() {
    tip.hidden = true;
  }

  form.addEventListener("submit", submit);
  $("clear-button").addEventListener("click", () => {
    input.value = "";
    $("page-url-input").value = "";
    fileInput.value = "";
    $("result").hidden = true;
    lastReport = null;
    setStatus("");
    input.focus();
  });
  $("download-button").addEventListener("click", download);
  fileInput.addEventListener("change", () => readFile(fileInput.files[0]));
  for (const radio of document.querySelectorAll('input[name="view"]')) {
    radio.addEventListener("change", renderBody);
  }
  input.addEventListener("dragover", (event) => {
    event.preventDefault();
    input.classList.add("dragging");
  });
  input.addEventListener("dragleave", () => input.classList.remove("dragging"));
  input.addEventListener("drop", (event) => {
    event.preventDefault();
    input.classList.remove("dragging");
    if (event.dataTransfer && event.dataTransfer.files.length) readFile(event.dataTransfer.files[0]);
  });
  // Ctrl/Cmd+Enter checks from inside the text box.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  const bodyNode = $("article-body");
  bodyNode.addEventListener("mouseover", (event) => showTip(event.target));
  bodyNode.addEventListener("mouseout", hideTip);
  bodyNode.addEventListener("focusin", (event) => showTip(event.target));
  bodyNode.addEventListener("focusout", hideTip);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") hideTip();
  });
  loadHealth();
})();

// Words as unspun.wording.count_words counts them (the report, the scan and the "too short"
// reason give the same number): runs between spaces that hold a letter or a digit.
function countWords(text) {
  return text.split(/\s+/).filter((run) => /[\p{L}\p{N}]/u.test(run)).length;
}

// "1 word", "2 words": a count with its noun in the right number.
function counted(n, noun) {
  return n.toLocaleString("en") + " " + noun + (n === 1 ? "" : "s");
}

