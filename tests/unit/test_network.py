"""ember.execution.local.network: addresses from a claimed block, and a resolver functions can reach."""

from __future__ import annotations

from ember.execution.local.network import addresses, link_name, resolver_problem


def test_a_block_gives_the_host_side_and_the_sandbox_address():
    assert addresses(0) == ("100.64.0.1", "100.64.0.2")
    assert addresses(0xFFFFF) == ("100.127.255.253", "100.127.255.254")
    assert link_name(0xFFFFF) == "embfffff" and len(link_name(0xFFFFF)) <= 15


def test_a_resolver_on_the_hosts_loopback_is_named_as_out_of_reach(tmp_path):
    loopback = tmp_path / "loopback.conf"
    loopback.write_text("nameserver 127.0.0.53\noptions edns0\n")
    upstream = tmp_path / "upstream.conf"
    upstream.write_text("nameserver 127.0.0.53\nnameserver 192.0.2.53\n")
    assert "127.0.0.53" in resolver_problem(loopback)
    assert resolver_problem(upstream) is None
    assert "unreadable" in resolver_problem(tmp_path / "missing.conf")
