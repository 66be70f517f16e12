"""guard.py's decisions without a server: which Host headers are answered, which routes refused.
(The same rules replayed against a real server: test_security.py.)"""

import pytest

from cqqa.serve.guard import REFUSED_ROUTES, allowed_hosts, host_allowed, host_name, is_ip

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("header,name", [
    ("127.0.0.1:7860", "127.0.0.1"), ("LOCALHOST", "localhost"), ("[::1]:7860", "::1"), ("::1", "::1"),
    ("Example.ORG:80", "example.org"), (" cqqa.test ", "cqqa.test"),
])
def test_host_name_drops_port_brackets_and_case(header, name):
    assert host_name(header) == name


def test_loopback_names_and_the_bound_address_are_answered_others_not():
    allowed = allowed_hosts("192.168.1.5", ("cqqa.test",))
    assert {"localhost", "127.0.0.1", "::1", "192.168.1.5", "cqqa.test"} <= allowed
    assert host_allowed("cqqa.test:7860", allowed, "192.168.1.5")
    assert not host_allowed("attacker.example", allowed, "192.168.1.5")
    assert not host_allowed("10.0.0.9", allowed, "192.168.1.5")  # an IP literal, but not this server's


def test_bound_to_a_wildcard_any_ip_literal_is_answered_but_no_foreign_name():
    allowed = allowed_hosts("0.0.0.0")
    assert "0.0.0.0" not in allowed
    assert host_allowed("10.0.0.9:7860", allowed, "0.0.0.0") and is_ip("10.0.0.9")
    assert not host_allowed("attacker.example", allowed, "0.0.0.0")


@pytest.mark.parametrize("path,refused", [
    ("/gradio_api/file=/etc/passwd", True), ("/gradio_api/upload", True), ("/gradio_api/proxy=http://x", True),
    ("/gradio_api/dev/reload", True), ("/gradio_api/queue/join", False), ("/gradio_api/info", False),
    ("/article/v1/doc", False),
])
def test_file_upload_and_proxy_routes_are_refused(path, refused):
    assert bool(REFUSED_ROUTES.match(path)) is refused
