"""The web page in a real browser: Playwright drives Debian's Chromium against a real server,
pastes the example article with the keyboard alone, presses Check and reads what is rendered."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from live_server import running_server

from unspun.api.settings import ServiceSettings
from unspun.article.reader import read_article
from unspun.detect.base import Scores, TokenEvidence
from unspun.pipeline import CheckConfig, Checker

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("UNSPUN_CHROMIUM", "/usr/bin/chromium")
RESULTS = REPO / "test-results"
EXAMPLE = REPO / "examples" / "spun-article.txt"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VERDICT_WORDS = {
    "machine": "Likely machine-written",
    "not_flagged": "Not flagged as machine-written",
    "uncertain": "Uncertain",
}
ASSESSMENT_WORDS = {
    "likely_spun": "Likely spun",
    "possibly_spun": "Possibly spun",
    "no_sign": "No sign of spinning",
    "uncertain": "Uncertain",
}
FALLBACK_ARTICLE = (
    "Harbour reopens after storm\n\n"
    + "The harbour reopened on Wednesday after a storm closed it for a day. " * 4
    + "\n\nCrews cleared debris from the quay and checked every mooring before ferries sailed. " * 3
)


class WordTokenDetector:
    """The test detector plus per-word token evidence (rank grows with word length), so the page's
    token view and hover can be exercised without a language model."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.calibration = inner.calibration

    @property
    def settings(self) -> dict[str, Any]:
        return self.inner.settings

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        results = self.inner.score(texts, passages=passages)
        for text, result in zip(texts, results, strict=True):
            result.tokens = [
                TokenEvidence(
                    start=m.start(),
                    end=m.end(),
                    text=m.group(),
                    logprob=-len(m.group()) / 2,
                    rank=len(m.group()) ** 3,
                    entropy=2.5,
                )
                for m in re.finditer(r"\w+", text)
            ]
        return results

    def save(self, directory):  # pragma: no cover - never saved
        raise NotImplementedError


@contextlib.contextmanager
def running_page(checker: Checker, settings: ServiceSettings | None = None) -> Iterator[str]:
    with running_server(checker, settings) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def example_text() -> str:
    if EXAMPLE.is_file():
        return EXAMPLE.read_text(encoding="utf-8")
    return FALLBACK_ARTICLE


def open_page(browser, base: str, **context_options: Any):
    context = browser.new_context(accept_downloads=True, **context_options)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    foreign: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith((base, "blob:")) else foreign.append(r.url)
    )
    page.goto(base + "/")
    return context, page, problems, foreign


def paste_and_check_with_keyboard(page, text: str) -> None:
    """Tab to the skip link, follow it to the text box, paste, then Tab to Check and press Enter."""
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "article-input"
    page.keyboard.insert_text(text)  # what a paste does: one input event with the whole text
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "check-button":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "check-button"
    page.keyboard.press("Enter")
    # Selector waits, not wait_for_function: the page's CSP forbids the eval that would need.
    page.wait_for_selector("#result:not([hidden]) #verdict-heading:not(:empty)", timeout=60_000)


def test_page_checks_an_article_with_the_keyboard_alone(browser, plain_detector, tmp_path):
    checker = Checker(CheckConfig(), detector=WordTokenDetector(plain_detector))
    text = example_text()
    source = tmp_path / "article.txt"
    source.write_text(text, encoding="utf-8")
    expected = checker.check(read_article(source)).to_json_dict()
    RESULTS.mkdir(exist_ok=True)
    with running_page(checker) as base:
        context, page, problems, foreign = open_page(
            browser, base, viewport={"width": 1280, "height": 900}
        )
        paste_and_check_with_keyboard(page, text)

        assessment = expected["assessment"]
        assert page.inner_text("#assessment-heading") == ASSESSMENT_WORDS[assessment["label"]]
        assert page.inner_text("#assessment-summary") == assessment["summary"]
        assert page.locator("#assessment-evidence li").count() == len(assessment["evidence"])
        # The assessment leads; the machine-writing verdict follows right under it.
        above = page.locator("#assessment-card").bounding_box()
        assert above["y"] < page.locator("#verdict-card").bounding_box()["y"]
        assert page.inner_text("#verdict-heading") == VERDICT_WORDS[expected["verdict"]]
        assert "Human percentile" in page.inner_text("#percentile")
        assert "human reference texts" in page.inner_text("#percentile")
        assert "1 in 100" in page.inner_text("#fpr") and "1.0%" in page.inner_text("#fpr")
        measured = expected["calibration"]
        assert (
            f"{measured['flagged']} of {measured['human_texts']} human reference texts"
            in page.inner_text("#fpr")
        )
        passages = page.locator("#article-body mark.passage")
        assert passages.count() == len(expected["passages"]) > 0
        scores = [float(s) for s in passages.evaluate_all("ns => ns.map(n => n.dataset.score)")]
        assert scores == pytest.approx([p["score"] for p in expected["passages"]])
        colours = passages.evaluate_all("ns => ns.map(n => getComputedStyle(n).backgroundColor)")
        assert all(c.startswith("rgb(") for c in colours)
        # Passages on the verdict's own scale: machine-like only at or above the threshold.
        classes = passages.evaluate_all("ns => ns.map(n => n.className)")
        for passage, names in zip(expected["passages"], classes, strict=True):
            if passage["score"] >= expected["threshold"]:
                assert "passage-high" in names
            elif passage["score"] >= expected["grey_threshold"]:
                assert "passage-grey" in names
            else:
                assert "passage-below" in names
        if expected["signals"]:
            assert not page.locator("#signals-section").is_hidden()
            assert page.locator("#signals li").count() == len(expected["signals"])

        # Passage score on hover and on keyboard focus.
        passages.first.hover()
        assert "passage score" in page.inner_text("#tip")
        page.mouse.move(0, 0)
        passages.nth(1 if passages.count() > 1 else 0).focus()
        assert page.locator("#tip").is_visible()

        page.screenshot(path=str(RESULTS / "web-desktop.png"), full_page=True)

        # Token view: chosen with the keyboard, evidence shown on hover.
        page.focus("input[value=passages]")
        page.keyboard.press("ArrowRight")
        assert page.is_checked("#tokens-radio")
        tokens = page.locator("#article-body span.token")
        assert tokens.count() == len(expected["tokens"])
        tokens.nth(3).hover()
        assert re.search(r"rank \d+ \(top|rank \d+ \(beyond", page.inner_text("#tip"))
        page.screenshot(path=str(RESULTS / "web-tokens.png"))

        # Download JSON gives the report that was rendered.
        with page.expect_download() as download:
            page.focus("#download-button")
            page.keyboard.press("Enter")
        saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert saved["schema"] == "unspun.report/2" and saved["verdict"] == expected["verdict"]
        assert saved["passages"] == expected["passages"]

        assert problems == [], problems
        assert foreign == [], f"the page loaded something not served by unspun: {foreign}"
        context.close()


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> str | None:
    """A real source index of the example corpus, so the page shows sources and claims."""
    corpus = REPO / "examples" / "reference-corpus.jsonl"
    if not corpus.is_file():
        return None
    from unspun.provenance import SourceIndex
    from unspun.provenance.records import read_sources

    location = str(tmp_path_factory.mktemp("index") / "sources")
    index = SourceIndex(location, create=True)
    index.add(read_sources(corpus))
    index.close()
    return location


def test_page_is_readable_at_phone_width(browser, plain_detector, tmp_path, index_dir):
    html_file = tmp_path / "article.html"
    paragraphs = "".join(f"<p>{p}</p>" for p in example_text().split("\n\n") if p.strip())
    html_file.write_text(
        f"<!doctype html><html><head><title>Example</title></head><body><article>{paragraphs}"
        "</article></body></html>",
        encoding="utf-8",
    )
    checker = Checker(CheckConfig(index=index_dir), detector=plain_detector)
    with running_page(checker) as base:
        context, page, problems, _ = open_page(
            browser, base, viewport={"width": 390, "height": 844}, device_scale_factor=2
        )
        # Opening an HTML file: the page sends it as HTML and the article is extracted.
        page.set_input_files("#file-input", str(html_file))
        page.wait_for_selector("#status:has-text('Loaded')")
        assert page.input_value("#article-input").lstrip().lower().startswith("<!doctype html")
        page.click("#check-button")
        page.wait_for_selector("#result:not([hidden]) #verdict-heading:not(:empty)")
        assert page.locator("#article-body mark.passage").count() > 0
        assert "<p>" not in page.inner_text("#article-body")
        if index_dir is not None:
            # Sources and claims tables, stacked into cards at this width.
            assert page.locator("#sources tbody tr").count() >= 1
            assert "Dock workers strike" in page.inner_text("#sources tbody tr >> nth=0")
            assert page.locator("#claims tbody tr").count() >= 3
            statuses = page.locator("#claims .claim-status").all_inner_texts()
            assert set(statuses) <= {"supported", "unsupported", "contradicted", "not checkable"}
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        font = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.article-body')).fontSize)"
        )
        assert font >= 15
        page.screenshot(path=str(RESULTS / "web-phone.png"), full_page=True)
        assert problems == [], problems
        context.close()


def test_page_shows_errors_and_never_runs_article_markup(browser, plain_detector):
    checker = Checker(CheckConfig(), detector=plain_detector)
    with running_page(checker, ServiceSettings(max_body_bytes=50_000)) as base:
        context, page, problems, _ = open_page(browser, base)
        page.click("#check-button")
        assert "Paste an article first" in page.inner_text("#status")

        hostile = (
            FALLBACK_ARTICLE + '\n\n<img src=x onerror="window.__pwned = 1"> '
            "<script>window.__pwned = 2</script> and more words to end the paragraph."
        )
        page.fill("#article-input", hostile)
        page.click("#check-button")
        page.wait_for_selector("#result:not([hidden]) #verdict-heading:not(:empty)")
        assert page.evaluate("window.__pwned === undefined")
        assert page.locator("#article-body img, #article-body script").count() == 0
        assert "onerror" in page.inner_text("#article-body")

        page.fill("#article-input", "word " * 20_000)
        page.click("#check-button")
        page.wait_for_selector("#status.error")
        assert "limit" in page.inner_text("#status")
        context.close()


def test_example_article_with_the_default_detector(browser):
    from unspun.detect.base import create_detector

    if not EXAMPLE.is_file():
        pytest.skip("examples/spun-article.txt is not present")
    try:
        detector = create_detector("default")
    except Exception as exc:  # noqa: BLE001 - any reason the shipped model cannot load
        pytest.skip(f"the default detector is not available: {exc}")
    checker = Checker(CheckConfig(), detector=detector)
    expected = checker.check(read_article(EXAMPLE)).to_json_dict()
    RESULTS.mkdir(exist_ok=True)
    with running_page(checker) as base:
        context, page, problems, foreign = open_page(
            browser, base, viewport={"width": 1280, "height": 900}
        )
        paste_and_check_with_keyboard(page, EXAMPLE.read_text(encoding="utf-8"))
        assert page.inner_text("#verdict-heading") == VERDICT_WORDS[expected["verdict"]]
        passages = page.locator("#article-body mark.passage")
        assert passages.count() == len(expected["passages"]) > 0
        flagged = [p for p in expected["passages"] if p["score"] >= expected["threshold"]]
        assert page.locator("#article-body mark.passage-high").count() == len(flagged)
        page.screenshot(path=str(RESULTS / "web-default-detector.png"), full_page=True)
        assert problems == [] and foreign == []
        context.close()


def test_docs_page_renders_the_schema_without_a_cdn(browser, plain_detector):
    checker = Checker(CheckConfig(), detector=plain_detector)
    with running_page(checker) as base:
        context = browser.new_context()
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(base + "/docs")
        page.wait_for_selector("h2:has-text('POST /v1/check')")
        assert page.locator("h2:has-text('GET /v1/health')").count() == 1
        assert problems == []
        context.close()


def _region(image, box: dict, scale: float = 1.0):
    left, top = int(box["x"] * scale), int(box["y"] * scale)
    right = int((box["x"] + box["width"]) * scale)
    bottom = int((box["y"] + box["height"]) * scale)
    return image.crop((left, top, right, bottom)).convert("RGB")


def _drawn(region) -> bool:
    """Something is drawn there (text on a background), not one flat colour."""
    low, high = zip(*region.getextrema(), strict=True)
    return max(h - lo for lo, h in zip(low, high, strict=True)) > 60


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


def test_screenshot_shows_the_verdict_highlighted_passages_and_sources(
    browser, plain_detector, index_dir
):
    """A PNG of a checked article, read back pixel by pixel: the verdict, the passage highlights
    (in the colours the page's style gives them) and the sources table are really on screen."""
    image_module = pytest.importorskip("PIL.Image")
    if index_dir is None:
        pytest.skip("examples/reference-corpus.jsonl is not in this checkout")
    checker = Checker(CheckConfig(index=index_dir), detector=plain_detector)
    RESULTS.mkdir(exist_ok=True)
    shot = RESULTS / "web-checked.png"
    with running_page(checker) as base:
        context, page, problems, _ = open_page(
            browser, base, viewport={"width": 1280, "height": 900}
        )
        page.fill("#article-input", example_text())
        page.click("#check-button")
        page.wait_for_selector("#result:not([hidden]) #verdict-heading:not(:empty)")
        page.wait_for_selector("#sources tbody tr")
        page.screenshot(path=str(shot), full_page=True)
        image = image_module.open(shot)
        width, height = image.size
        scroll = page.evaluate("[window.scrollX, window.scrollY]")
        assert scroll == [0, 0]

        def box(selector: str) -> dict:
            found = page.locator(selector).first.bounding_box()
            assert found and found["width"] > 0 and found["height"] > 0, selector
            assert found["x"] + found["width"] <= width and found["y"] + found["height"] <= height
            return found

        assert _drawn(_region(image, box("#verdict-heading")))
        assert _drawn(_region(image, box("#assessment-heading")))
        assert _drawn(_region(image, box("#sources tbody tr")))
        assert "Dock workers strike" in page.inner_text("#sources tbody tr >> nth=0")
        marks = page.locator("#article-body mark.passage")
        assert marks.count() > 0
        # Each highlighted passage shows its background colour on screen: the commonest colour
        # of its first line is the one its style gives it (within anti-aliasing).
        checked = 0
        for i in range(marks.count()):
            mark = marks.nth(i)
            background = _rgb(mark.evaluate("n => getComputedStyle(n).backgroundColor"))
            if background == (0, 0, 0) or "rgba(0, 0, 0, 0)" in mark.evaluate(
                "n => getComputedStyle(n).backgroundColor"
            ):
                continue  # a passage left unhighlighted (below the grey zone)
            first_line = mark.evaluate(
                "n => { const r = n.getClientRects()[0]; "
                "return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
            )
            region = _region(image, first_line)
            count, commonest = max(region.getcolors(region.width * region.height))
            assert all(abs(a - b) <= 12 for a, b in zip(commonest, background, strict=True)), (
                i,
                commonest,
                background,
            )
            checked += 1
        assert checked > 0, "no highlighted passage to look at"
        assert problems == [], problems
        context.close()


def test_page_checks_a_page_by_its_address(browser, plain_detector):
    """The page sends only the address; the server fetches the page (allowed to reach 127.0.0.1
    here), and the page shows what was fetched. By default the server refuses that address."""
    from web_site import news_site, publish_listings

    from unspun.fetch import FetchSettings, fetch_article

    checker = Checker(CheckConfig(), detector=plain_detector)
    site = news_site()
    with site.running():
        publish_listings(site)
        url = site.url("/news/1.html")
        article, _ = fetch_article(url, settings=FetchSettings(allow_private=True))
        expected = checker.check(article).to_json_dict()
        allowed = ServiceSettings(allow_private_urls=True)
        with running_page(checker, allowed) as base:
            context, page, problems, foreign = open_page(
                browser, base, viewport={"width": 1280, "height": 900}
            )
            page.fill("#page-url-input", url)
            page.click("#check-button")
            page.wait_for_selector("#result:not([hidden]) #verdict-heading:not(:empty)")
            assert page.inner_text("#verdict-heading") == VERDICT_WORDS[expected["verdict"]]
            line = page.inner_text("#fetch-line")
            assert url in line and "HTTP 200" in line and "published 2024-05-01" in line
            assert "Council approves budget" in page.inner_text("#article-body") or (
                page.locator("#article-body mark.passage").count() > 0
            )
            RESULTS.mkdir(exist_ok=True)
            page.screenshot(path=str(RESULTS / "web-url.png"), full_page=True)
            assert problems == [], problems
            assert foreign == [], f"the browser itself fetched: {foreign}"
            context.close()
        assert site.fetched().count("/news/1.html") == 2  # once here, once by the server

        with running_page(checker) as base:
            context, page, problems, _ = open_page(browser, base)
            page.fill("#page-url-input", url)
            page.click("#check-button")
            page.wait_for_selector("#status.error")
            status = page.inner_text("#status")
            assert "Could not check the page" in status and "loopback address" in status
            assert page.locator("#result").is_hidden()
            context.close()
        assert site.fetched().count("/news/1.html") == 2  # refused: nothing fetched
