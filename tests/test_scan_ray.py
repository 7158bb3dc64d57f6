"""``unspun scan --engine ray`` on a real local Ray cluster: the same rows as the local engine, and
the same exactly-once resume after the driver is killed."""

from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest
from batch_data import (
    SETTINGS,
    TEST_DETECTOR,
    TESTS,
    article_records,
    kill_and_resume,
    page_html,
    scan_env,
    write_jsonl,
    write_warc,
)

from unspun.batch.scan import ScanOptions, run_scan

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_cluster():
    env = {"PYTHONPATH": str(TESTS), "UNSPUN_PLUGINS": "batch_detectors"}
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        runtime_env={"env_vars": env},
    )
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _comparable(path):
    columns = [
        "record_id",
        "site",
        "title",
        "verdict",
        "human_percentile",
        "signals",
        "content_hash",
        "error",
    ]
    return sorted(pq.read_table(path, columns=columns).to_pylist(), key=lambda r: r["record_id"])


def test_ray_engine_gives_the_same_rows_as_the_local_engine(tmp_path, ray_cluster):
    records = article_records(30)
    records.append(dict(records[4], id="copy", url="https://copies.example/4"))
    feed = write_jsonl(tmp_path / "feed.jsonl", records, ["{broken"])
    pages = [
        (f"https://site{i}.example/p", page_html(f"P{i}", records[i]["text"] + " Extra."))
        for i in range(3)
    ]
    crawl = write_warc(tmp_path / "crawl.warc", pages, compress=False)
    inputs = [str(feed), str(crawl)]
    local = run_scan(inputs, tmp_path / "local.parquet", SETTINGS)
    distributed = run_scan(
        inputs,
        tmp_path / "ray.parquet",
        SETTINGS,
        ScanOptions(engine="ray", workers=2, batch_size=4),
    )
    assert distributed.totals == local.totals
    assert local.totals.duplicates == 1 and local.totals.errors == 1
    ray_rows = _comparable(tmp_path / "ray.parquet")
    assert len(ray_rows) == 35
    assert ray_rows == _comparable(tmp_path / "local.parquet")


def test_killed_ray_scan_resumes_exactly_once(tmp_path, ray_cluster):
    records = article_records(200)
    feed = write_jsonl(tmp_path / "feed.jsonl", records)
    out = tmp_path / "results.parquet"
    args = [
        str(feed),
        "--out",
        str(out),
        "--detector",
        TEST_DETECTOR,
        "--engine",
        "ray",
        "--address",
        ray_cluster,
        "--workers",
        "2",
        "--batch-size",
        "8",
        "--checkpoint-rows",
        "16",
    ]
    expected = {f"{feed}#{n}" for n in range(1, 201)}
    env = scan_env(0.01)
    env.pop("RAY_ADDRESS", None)
    kill_and_resume(args, out, expected, env)
    assert os.path.exists(out)
