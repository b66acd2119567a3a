package io.jcircuit.runtime.host;

import io.jcircuit.Address;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which host daemon a runtime runs under, as the CLI and the console name it. */
class HostServiceTest {

    private static Entry at(String dir, WorkerId id, Map<String, String> metadata) {
        return new Entry(dir + "/" + id, id, new Address("127.0.0.1", 1), "machine-1", 42, Instant.EPOCH, metadata);
    }

    @Test
    void aRuntimeRunsUnderTheDaemonWhoseDirectoryItIsFiledInOrWhoseEntryListsItWarm() {
        WorkerId daemon = WorkerId.random();
        WorkerId worker = WorkerId.random();
        WorkerId warm = WorkerId.random();
        WorkerId deeper = WorkerId.random();
        List<Entry> entries = List.of(
            at("/host/h1", daemon, Map.of(HostService.ROLE_KEY, HostService.ROLE_HOST, HostService.WARM_KEY, " " + warm + " ")),
            at("/host/h1", worker, Map.of(HostService.ROLE_KEY, HostService.ROLE_WORKER)),
            at("/host/h1/x", deeper, Map.of()));

        Map<WorkerId, String> daemons = HostService.daemonsOf(entries);

        // a warm JVM is filed only under /worker: its host names it (before: it showed under its machine's name)
        assertThat(daemons).containsOnly(Map.entry(daemon, "h1"), Map.entry(worker, "h1"), Map.entry(warm, "h1"));
    }
}
