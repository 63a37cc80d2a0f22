"""ember.runtimes.jvm: the JVM's flags fit it into MemorySize; the bootstrap is compiled once."""

from __future__ import annotations

from ember.runtimes import jvm, runtime_command


def test_the_jvm_sees_memorysize_as_its_ram_and_keeps_heap_below_it():
    argv = runtime_command("java17", "/var/task", "/var/runtime", 512)
    assert argv[0] == jvm.JAVA and argv[-1] == "ember.runtime.Bootstrap"
    assert "-XX:MaxRAM=512m" in argv and f"-XX:MaxRAMPercentage={jvm.HEAP_PERCENT}" in argv
    assert "-XX:TieredStopAtLevel=1" in argv
    assert argv[argv.index("-cp") + 1] == f"/var/runtime/java/classes:{jvm.GSON}"


def test_compiled_classes_are_reused_until_a_source_changes():
    classes = jvm.compiled_classes()
    stamp = (classes / ".compiled").stat().st_mtime_ns
    assert jvm.compiled_classes() == classes and (classes / ".compiled").stat().st_mtime_ns == stamp
    assert (classes / "com/amazonaws/services/lambda/runtime/RequestHandler.class").exists()
