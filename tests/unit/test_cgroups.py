from pathlib import Path

from ember.execution.local.cgroups import CFS_PERIOD_US, Hierarchy, cpu_quota_us, detect

HYBRID = """\
tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
"""
V2 = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n"
V1_COMBINED = ("cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
               "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n")


def test_hybrid_uses_v1_for_each_controller_it_mounts():
    found = detect(HYBRID, {Path("/sys/fs/cgroup/unified"): "hugetlb"})
    assert found == {name: Hierarchy(1, Path(f"/sys/fs/cgroup/{name}"))
                     for name in ("cpu", "cpuacct", "memory", "pids")}


def test_pure_v2_serves_every_enabled_controller():
    found = detect(V2, {Path("/sys/fs/cgroup"): "cpuset cpu io memory hugetlb pids"})
    assert set(found) == {"cpu", "cpuacct", "memory", "pids", "freezer"}
    assert all(h == Hierarchy(2, Path("/sys/fs/cgroup")) for h in found.values())


def test_the_freezer_is_v1s_when_mounted_else_cgroup2s_where_it_holds_memory():
    v1 = HYBRID + "cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0\n"
    assert detect(v1, {Path("/sys/fs/cgroup/unified"): "hugetlb"})["freezer"] == \
        Hierarchy(1, Path("/sys/fs/cgroup/freezer"))
    assert "freezer" not in detect(HYBRID, {Path("/sys/fs/cgroup/unified"): "hugetlb"}), \
        "a cgroup2 mount the environments are not charged in can't freeze them"


def test_v2_without_a_controller_leaves_it_out():
    assert "memory" not in detect(V2, {Path("/sys/fs/cgroup"): "cpu pids"})


def test_v1_co_mounted_cpu_and_cpuacct_share_a_hierarchy():
    found = detect(V1_COMBINED)
    assert found["cpu"] == found["cpuacct"] == Hierarchy(1, Path("/sys/fs/cgroup/cpu,cpuacct"))
    assert "pids" not in found


def test_cpu_quota_is_memory_over_1769_capped_at_cores():
    assert cpu_quota_us(1769, cores=2) == CFS_PERIOD_US
    assert cpu_quota_us(128, cores=2) == round(128 / 1769 * CFS_PERIOD_US)
    assert cpu_quota_us(128, cores=2) >= 1000, "the kernel refuses quotas under 1 ms"
    assert cpu_quota_us(10240, cores=2) == 2 * CFS_PERIOD_US


def freezer_tree(tmp_path, version: int):
    """A server's tree with one environment, in directories standing in for cgroupfs."""
    from ember.execution.local.cgroups import CgroupTree

    tree = CgroupTree({"freezer": Hierarchy(version, tmp_path)}, owner_pid=1)
    group = tree.adopt("env-1", 128)
    group.paths["freezer"].mkdir(parents=True)
    state = group.paths["freezer"] / ("freezer.state" if version == 1 else "cgroup.freeze")
    state.write_text("THAWED" if version == 1 else "0")
    return tree, group, state


def test_an_environment_freezes_and_thaws_through_v1s_freezer_state(tmp_path):
    _, group, state = freezer_tree(tmp_path, 1)
    group.freeze()
    assert state.read_text() == "FROZEN" and group.frozen
    group.thaw()
    assert state.read_text() == "THAWED" and not group.frozen


def test_an_environment_freezes_and_thaws_through_v2s_cgroup_freeze(tmp_path):
    _, group, state = freezer_tree(tmp_path, 2)
    group.freeze()
    assert state.read_text() == "1"
    group.thaw()
    assert state.read_text() == "0"


def test_a_dead_servers_zygote_thaws_every_environment(tmp_path):
    tree, group, state = freezer_tree(tmp_path, 1)
    group.freeze()
    tree.thaw_all()
    assert state.read_text() == "THAWED"


def test_without_a_freezer_freeze_does_nothing(tmp_path):
    from ember.execution.local.cgroups import CgroupTree

    group = CgroupTree({"memory": Hierarchy(1, tmp_path)}, owner_pid=1).adopt("env-1", 128)
    group.freeze()
    assert not group.frozen
