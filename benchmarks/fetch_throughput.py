"""Fetch throughput: pages/s that ``unspun scan FEED_URL`` fetches and checks from a generated local
site (served on 127.0.0.1 by this script, with ETag/Last-Modified), with no per-host delay.

    python benchmarks/fetch_throughput.py                     # 200 pages, encoder detector
    python benchmarks/fetch_throughput.py --pages 500 --per-host 4 --detector encoder

Prints, one line each: fetching alone (unspun's polite client, in this process), the whole scan
(fetch + parse + check + write; the wall time includes starting unspun and loading the detector),
and a rerun of the unchanged feed (every page answered 304, nothing checked).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "detect"
UNSPUN = str(Path(sys.executable).with_name("unspun"))


def _texts(count: int) -> list[str]:
    """News texts from ../shared/data/detect when present, else plain generated sentences."""
    path = SHARED / "open-generators.jsonl"
    texts: list[str] = []
    if path.is_file():
        with open(path, encoding="utf-8") as handle:
            texts = [
                row["text"] for row in map(json.loads, handle) if row.get("domain") == "news-bbc"
            ]
    rng = random.Random(0)
    if not texts:
        subjects = ["The council", "Residents", "The minister", "Police", "The company"]
        verbs = ["said on Monday that", "announced that", "confirmed that", "warned that"]
        rest = [
            "the new budget would be approved next month",
            "the road would stay closed until the repairs were done",
            "more staff would be hired at the hospital",
            "the plan had been delayed by the weather",
        ]
        texts = [
            " ".join(
                f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(rest)}." for _ in range(18)
            )
            for _ in range(50)
        ]
    # Each page unique, so de-duplication does not skip work.
    return [f"{texts[i % len(texts)]} Report number {i}." for i in range(count)]


def _page(title: str, text: str) -> bytes:
    sentences = re.split(r"(?<=[.!?])\s+", text)
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
        f"<p class='byline'>By Sam Writer</p>{body}</article><footer>Copyright</footer>"
        "</body></html>"
    ).encode()


def serve(pages: dict[str, bytes]) -> tuple[ThreadingHTTPServer, int]:
    modified = formatdate(1_714_550_400, usegmt=True)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html"
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def build_site(count: int, port: int) -> dict[str, bytes]:
    base = f"http://127.0.0.1:{port}"
    pages = {
        f"/news/{i}.html": _page(f"Story number {i}", text)
        for i, text in enumerate(_texts(count))
    }
    items = "".join(
        f"<item><title>Story {i}</title><link>{base}/news/{i}.html</link></item>"
        for i in range(count)
    )
    pages["/feed.xml"] = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Local</title>"
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()
    pages["/robots.txt"] = b"User-agent: *\nAllow: /\n"
    return pages


def fetch_alone(port: int, count: int, per_host: int) -> float:
    """Pages/s through unspun's polite client alone (robots, pacing at delay 0, no checking)."""
    from unspun.fetch import FetchSettings
    from unspun.fetch.polite import CrawlSettings, PoliteClient

    settings = CrawlSettings(
        fetch=FetchSettings(allow_private=True), delay=0.0, per_host=per_host, connections=per_host
    )
    client = PoliteClient(settings)
    urls = [f"http://127.0.0.1:{port}/news/{i}.html" for i in range(count)]
    started = time.perf_counter()
    with ThreadPoolExecutor(per_host) as pool:
        for page in pool.map(client.get, urls):
            page.decode()
    seconds = time.perf_counter() - started
    client.close()
    return count / seconds


def run_scan(args: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    done = subprocess.run([UNSPUN, "scan", *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"unspun scan failed ({done.returncode}): {done.stderr}")
    return seconds, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--detector", default="encoder")
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args()

    pages: dict[str, bytes] = {}
    server, port = serve(pages)
    pages.update(build_site(options.pages, port))
    feed = f"http://127.0.0.1:{port}/feed.xml"
    print(
        f"local site: {options.pages} pages + feed on 127.0.0.1, detector {options.detector}, "
        f"--delay 0 --per-host {options.per_host} --workers {options.workers}, "
        f"{os.cpu_count()} CPUs"
    )
    rate = fetch_alone(port, options.pages, options.per_host)
    print(f"fetch only (polite client, {options.per_host} at once): {rate:.0f} pages/s")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "t.parquet"
        args = [
            feed, "--out", str(out), "--detector", options.detector, "--allow-private-urls",
            "--delay", "0", "--per-host", str(options.per_host),
            "--connections", str(options.per_host), "--workers", str(options.workers),
            "--max-pages", str(options.pages),
        ]  # fmt: skip
        wall, log = run_scan(args)
        found = re.search(r"This run: ([\d,]+) records? in ([\d.]+) s", log)
        rows, seconds = int(found.group(1).replace(",", "")), float(found.group(2))
        print(
            f"scan, fetched and checked: {rows} pages in {seconds:.1f} s = {rows / seconds:.1f} "
            f"pages/s ({wall:.1f} s wall with start-up and detector loading: "
            f"{rows / wall:.1f} pages/s)"
        )
        wall, log = run_scan(args)
        web = re.search(r"Web: .*", log)
        print(f"rerun, nothing changed: {wall:.1f} s wall; {web.group(0) if web else log.strip()}")
        # The same pages saved as files: what checking alone costs, for comparison.
        folder_in = Path(folder) / "pages"
        folder_in.mkdir()
        for path, body in pages.items():
            if path.startswith("/news/"):
                (folder_in / path.rsplit("/", 1)[1]).write_bytes(body)
        files = [
            str(folder_in), "--out", str(Path(folder) / "files.parquet"),
            "--detector", options.detector, "--workers", str(options.workers),
        ]  # fmt: skip
        wall, log = run_scan(files)
        found = re.search(r"This run: ([\d,]+) records? in ([\d.]+) s", log)
        rows, seconds = int(found.group(1).replace(",", "")), float(found.group(2))
        print(
            f"same pages from a folder of files (no fetching): {rows / seconds:.1f} pages/s "
            f"({rows} in {seconds:.1f} s)"
        )
    server.shutdown()


if __name__ == "__main__":
    main()
