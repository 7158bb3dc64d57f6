"""Helpers for the batch tests: inputs whose articles the test detector calls human or machine
(JSONL, WARC, pages), and running a real ``unspun scan`` that is killed and resumed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
from batch_detectors import DELAY_ENV, TEST_DETECTOR

from unspun.batch.engine import ScanSettings
from unspun.batch.warc import write_warc_record
from unspun.pipeline import CheckConfig

TESTS = Path(__file__).resolve().parent
UNSPUN = str(Path(sys.executable).with_name("unspun"))
# Scans in the test process and in workers use the test detector, found through UNSPUN_PLUGINS.
SETTINGS = ScanSettings(CheckConfig(detector=TEST_DETECTOR, tokens=False), ("batch_detectors",))

# Mean word length decides the test detector: short words read as human, long words as machine.
# Short words in plain sentences (subject, verb, object, a tail), so the text reads as English
# prose to the out-of-domain gate (random short words in any order are word salad to it).
_SUBJECTS = ["The cat", "A dog", "My son", "The man", "We", "He", "She", "The kid"]
_VERBS = ["saw", "ran to", "sat on", "got", "fed", "met", "hid by", "left"]
_OBJECTS = ["the bus", "a red mat", "the big van", "his old hat", "a box", "the dog", "her cup"]
_TAILS = ["at six", "in the sun", "by the sea", "on the way home", "all day", "at noon", "so far"]
_LONG = [
    "international",
    "governmental",
    "announcement",
    "extraordinarily",
    "controversial",
    "economically",
    "infrastructure",
    "administration",
    "parliamentary",
    "considerations",
    "unprecedented",
]
_FUNCTION = ["the", "of", "and", "to", "in", "that", "for", "with"]


def article_text(seed: int, *, machine: bool, words: int = 90) -> str:
    rng = random.Random(seed)
    sentences = []
    for _ in range(words // 10):
        if machine:  # long words between function words, so it still reads as English to the gate
            chosen = [w for _ in range(5) for w in (rng.choice(_FUNCTION), rng.choice(_LONG))]
        else:
            parts = (_SUBJECTS, _VERBS, _OBJECTS, _TAILS)
            chosen = [rng.choice(part) for part in parts]
            chosen += ["and", rng.choice(_SUBJECTS).lower(), rng.choice(_VERBS), "it"]
        sentence = " ".join(chosen)
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return " ".join(sentences[:3]) + "\n\n" + " ".join(sentences[3:])


def article_records(count: int, *, sites: int = 3, start: int = 0) -> list[dict]:
    """Records for sites site0..site{n-1}.example; site0 publishes only machine text."""
    records = []
    for i in range(start, start + count):
        site = i % sites
        machine = site == 0 or i % 4 == 1
        records.append(
            {
                "id": f"r{i}",
                "title": f"Headline number {i}",
                "url": f"https://www.site{site}.example/news/{i}",
                "date": f"2024-05-{1 + i % 7:02d}",
                "text": article_text(i, machine=machine),
            }
        )
    return records


def write_jsonl(path: Path, records: list[dict], extra_lines: list[str] = ()) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
        for line in extra_lines:
            handle.write(line + "\n")
    return path


def page_html(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Copyright</footer></body></html>"
    )


def write_warc(path: Path, pages: list[tuple[str, str]], *, compress: bool) -> Path:
    """A crawl: a warcinfo record, then per page a request, its HTML response; plus one image."""
    with open(path, "wb") as out:
        write_warc_record(
            out,
            url="",
            payload=b"software: tests",
            kind="warcinfo",
            content_type="application/warc-fields",
            compress=compress,
        )
        for url, page in pages:
            write_warc_record(
                out,
                url=url,
                payload=b"GET / HTTP/1.1\r\n\r\n",
                kind="request",
                content_type="application/http; msgtype=request",
                compress=compress,
            )
            write_warc_record(out, url=url, payload=page.encode("utf-8"), compress=compress)
        write_warc_record(
            out,
            url="https://site0.example/logo.png",
            payload=b"\x89PNG....",
            content_type="image/png",
            compress=compress,
        )
    return path


def scan_env(delay: float) -> dict[str, str]:
    """Environment for an ``unspun scan`` subprocess using the test detector (``delay`` s/text)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    env["UNSPUN_PLUGINS"] = "batch_detectors"
    env[DELAY_ENV] = str(delay)
    return env


def kill_and_resume(args: list[str], out: Path, expected_ids: set[str], env: dict) -> str:
    """Start ``unspun scan``, SIGKILL it at a random moment after its first checkpoint part, run it
    again with the same arguments, and check every record is in the output exactly once."""
    parts = out.with_name(out.name + ".parts")
    process = subprocess.Popen(
        [UNSPUN, "scan", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(parts.glob("part-*.parquet")):
            assert process.poll() is None, process.communicate()[1].decode()
            assert time.monotonic() < deadline, "no checkpoint part was committed"
            time.sleep(0.05)
        time.sleep(random.uniform(0, 1.0))
    finally:
        # The whole group: the driver and its workers die together, as in a crash.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert not out.exists(), "the scan finished before it could be killed; slow it down"
    result = subprocess.run(
        [UNSPUN, "scan", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    ids = [row["record_id"] for row in pq.read_table(out, columns=["record_id"]).to_pylist()]
    assert len(ids) == len(set(ids)), "a record was written twice"
    assert set(ids) == expected_ids
    assert "skipped" in result.stderr and "already done" in result.stderr
    return result.stderr
