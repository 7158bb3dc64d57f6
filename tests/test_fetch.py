"""``unspun check URL`` and the fetch under it, against a real site on 127.0.0.1: the report names
the final URL, site and date; every bad case (404, slow, redirect loop, huge, binary, refused
address, bad scheme, unknown host) is one line with its own exit code; Latin-1 is decoded; the
address check resolves once, refuses non-public addresses (also behind a name or a redirect) and
connects to the address it checked, with the name kept for the Host header and TLS."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from batch_detectors import TEST_DETECTOR
from web_site import LATIN1, Resource, news_site, publish_listings

from unspun.errors import FetchError, HostNotFound, URLRefused
from unspun.fetch import Fetcher, FetchSettings, fetch_article
from unspun.fetch import address as address_module

PRIVATE = FetchSettings(allow_private=True, timeout=5)


@pytest.fixture(scope="module")
def site():
    site = news_site(slow=3.0, huge_bytes=400_000)
    site.add("/moved", b"", status=301, headers={"Location": "/news/1.html"})
    with site.running():
        publish_listings(site)
        yield site


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from unspun.cli import main

    monkeypatch.setattr(sys, "argv", ["unspun", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def test_check_url_reports_final_url_site_and_date(site, monkeypatch, capsys):
    code, out, err = run_cli(
        monkeypatch, capsys, "check", site.url("/moved"), "--allow-private-urls",
        "--detector", TEST_DETECTOR, "-f", "json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    final = site.url("/news/1.html")
    assert report["article"]["url"] == final
    assert report["article"]["title"] == "Council approves budget"
    assert report["article"]["date"] == "2024-05-01"
    assert report["article"]["site"] == "Local News"  # the page's own site name
    fetch = report["fetch"]
    assert (fetch["url"], fetch["final_url"], fetch["status"]) == (site.url("/moved"), final, 200)
    assert fetch["redirects"] == 1 and fetch["content_type"] == "text/html"
    assert fetch["fetched_at"].endswith("Z")
    assert report["verdict"] == "machine"  # long words: the test detector's machine text
    hit = next(hit for hit in site.hits if hit.path == "/news/1.html")
    assert hit.user_agent.startswith("unspun/")

    code, out, err = run_cli(
        monkeypatch, capsys, "check", final, "--allow-private-urls", "--detector", TEST_DETECTOR
    )
    assert code == 0, err
    assert "Fetched" in out and "HTTP 200" in out and final in out


def test_no_cookies_are_kept_between_fetches(site):
    site.resources["/cookie.html"] = Resource(
        site.resources["/news/2.html"].body, headers={"Set-Cookie": "session=abc; Path=/"}
    )
    with Fetcher(PRIVATE) as fetcher:
        fetcher.get(site.url("/cookie.html"))
        fetcher.get(site.url("/news/2.html"))
    assert site.hits[-1].path == "/news/2.html" and site.hits[-1].cookie == ""


def test_latin1_page_is_decoded_by_its_meta_charset(site):
    article, page = fetch_article(site.url(LATIN1), settings=PRIVATE)
    assert "crème brûlée" in article.body and "naïve" in article.body
    assert page.charset == "iso-8859-1"
    assert article.title == "Café society"


@pytest.mark.parametrize(
    ("path", "options", "code", "message"),
    [
        ("/news/missing.html", [], 14, "HTTP 404 Not Found from http://127.0.0.1"),
        ("/news/slow.html", ["--timeout", "0.5"], 13, "no answer within 0.5 s"),
        ("/news/loop-a.html", [], 17, "redirect loop: http://127.0.0.1"),
        ("/news/huge.html", ["--max-bytes", "100000"], 15, "over the 100.0 kB limit"),
        ("/files/report.pdf", [], 16, "is application/pdf, not an HTML or text page"),
    ],
)
def test_bad_pages_are_one_line_with_their_own_exit_code(
    site, monkeypatch, capsys, path, options, code, message
):
    got, out, err = run_cli(
        monkeypatch, capsys, "check", site.url(path), "--allow-private-urls", *options,
        "--detector", TEST_DETECTOR,
    )  # fmt: skip
    assert got == code, err
    assert out == "" and "\n" not in err and "Traceback" not in err
    assert err.startswith("unspun: error: ") and message in err


def test_refused_urls_and_unknown_hosts(site, monkeypatch, capsys):
    system = address_module.system_resolver

    def lookup(host: str, port: int) -> list[str]:
        if host == "gone.test":  # no DNS query leaves the machine in tests
            raise HostNotFound(f"cannot resolve the host {host} (Name or service not known)")
        return system(host, port)

    monkeypatch.setattr(address_module, "system_resolver", lookup)
    cases = [
        (site.url("/news/1.html"), 18, "127.0.0.1 is a loopback address"),
        (site.url("/news/1.html", host="localhost"), 18, "localhost resolves to"),
        ("ftp://127.0.0.1/article.txt", 18, "only http and https URLs can be fetched, not ftp:"),
        ("http://gone.test/news", 12, "cannot resolve the host gone.test"),
    ]
    for url, code, message in cases:
        got, out, err = run_cli(monkeypatch, capsys, "check", url, "--detector", TEST_DETECTOR)
        assert got == code, err
        assert message in err and "\n" not in err, err
    # Nothing reached the site: the addresses were refused before any connection.
    assert not [hit for hit in site.hits if hit.path == "/news/1.html" and "localhost" in hit.host]


def test_a_closed_port_is_a_fetch_error(site):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as info:
        fetch_article(f"http://127.0.0.1:{port}/", settings=PRIVATE)
    assert info.value.exit_code == 12 and "Connection refused" in info.value.message


def test_blocked_addresses():
    blocked = {
        "127.0.0.1": "loopback",
        "::1": "loopback",
        "10.1.2.3": "private",
        "192.168.0.1": "private",
        "169.254.169.254": "metadata",
        "fd00:ec2::254": "metadata",
        "100.100.100.200": "metadata",
        "169.254.10.10": "link-local",
        "fe80::1%eth0": "link-local",
        "0.0.0.0": "unspecified",
        "224.0.1.1": "multicast",
        "::ffff:127.0.0.1": "loopback",  # IPv4-mapped
        "2002:7f00:1::1": "loopback",  # 6to4 of 127.0.0.1
        "100.64.0.1": "non-public",  # carrier-grade NAT
    }
    for address, kind in blocked.items():
        reason = address_module.blocked_reason(address)
        assert reason is not None and kind in reason, (address, reason)
    assert address_module.blocked_reason("93.184.216.34") is None
    assert address_module.blocked_reason("2606:4700::1111") is None


def _only_127_0_0_2_is_blocked(address) -> str | None:
    return "a test-blocked address" if str(address) == "127.0.0.2" else None


def test_resolves_once_connects_to_the_checked_address_and_rechecks_redirects(site, monkeypatch):
    """A name is looked up once per connection, by the resolver whose answer was checked: the
    connection goes to that address (the system resolver cannot find *.test names), the Host
    header keeps the name, a later answer cannot swap the address in, and a redirect to a name
    that resolves to a refused address is refused."""
    monkeypatch.setattr(address_module, "blocked_reason", _only_127_0_0_2_is_blocked)
    calls: list[str] = []
    answers = {"news.test": ["127.0.0.1"], "evil.test": ["127.0.0.2"]}

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        if host == "news.test" and calls.count(host) > 1:
            return ["127.0.0.2"]  # the rebind: any second lookup would get a refused address
        return answers[host]

    site.resources["/to-evil"] = Resource(
        b"", status=302, headers={"Location": f"http://evil.test:{site.port}/news/1.html"}
    )
    with Fetcher(FetchSettings(timeout=5), resolver=rebinding) as fetcher:
        article, page = fetch_article(f"http://news.test:{site.port}/news/2.html", fetcher)
        assert page.final_url == f"http://news.test:{site.port}/news/2.html"
        assert article.title == "Port workers strike"
        assert calls == ["news.test"]
        assert site.hits[-1].host == f"news.test:{site.port}"
        with pytest.raises(URLRefused) as info:
            fetcher.get(f"http://news.test:{site.port}/to-evil")
    assert "evil.test resolves to 127.0.0.2, a test-blocked address" in info.value.message
    assert "evil.test" in calls  # the redirect's host was looked up and checked
    # Any one refused address refuses the name, before connecting to any of them.
    with pytest.raises(URLRefused):
        address_module.check_addresses("mixed.test", ["93.184.216.34", "127.0.0.2"],
                                       allow_private=False)  # fmt: skip


def test_a_lookup_that_hangs_is_a_timeout():
    import time

    from unspun.errors import FetchTimeout

    def hanging(host: str, port: int) -> list[str]:
        time.sleep(3)
        return ["127.0.0.1"]

    started = time.monotonic()
    fetcher = Fetcher(FetchSettings(timeout=0.5), resolver=hanging)
    with fetcher, pytest.raises(FetchTimeout) as info:
        fetcher.get("http://slow-dns.test/")
    assert time.monotonic() - started < 2
    assert "looking up slow-dns.test took longer than" in info.value.message
    assert info.value.exit_code == 13


def _make_certificate(folder) -> tuple[str, str, str]:
    """A test CA and a certificate for news.test (no IP address in it), made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    key, csr, crt, ext = folder / "s.key", folder / "s.csr", folder / "s.crt", folder / "ext"
    ext.write_text("subjectAltName=DNS:news.test\n")
    for command in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
         "-days", "2", "-subj", "/CN=unspun test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=news.test"],
        ["x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", ext],
    ):  # fmt: skip
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)
    return str(ca_crt), str(crt), str(key)


def test_tls_uses_the_host_name_for_sni_and_the_certificate(tmp_path):
    ca, certificate, key = _make_certificate(tmp_path)
    names: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = b"<html><body><article><h1>Secure</h1><p>" + b"A plain sentence. " * 30
            body += b"</p></article></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        resolver = lambda host, _port: ["127.0.0.1"]  # noqa: E731
        trust = ssl.create_default_context(cafile=ca)
        settings = FetchSettings(allow_private=True, timeout=5)
        with Fetcher(settings, resolver=resolver, ssl_context=trust) as fetcher:
            article, page = fetch_article(f"https://news.test:{port}/story", fetcher)
            assert article.title == "Secure" and page.status == 200
            assert names == ["news.test"]  # SNI named the host, not the address
            # The same address under another name: the certificate does not match it.
            with pytest.raises(FetchError) as info:
                fetcher.get(f"https://other.test:{port}/story")
            assert "certificate" in info.value.message.lower()
    finally:
        server.shutdown()
        server.server_close()
