package io.jcircuit.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProcStatusTest {

    @Test
    void shouldReadTheResidentSizesInMib() {
        ProcStatus s = ProcStatus.parse(List.of("Name:\tjava", "VmPeak:\t 3000000 kB", "VmRSS:\t   81920 kB",
            "RssAnon:\t   61440 kB", "RssFile:\t   20480 kB", "RssShmem:\t       0 kB", "Threads:\t31"));

        assertThat(s).isEqualTo(new ProcStatus(80.0, 60.0, 20.0, 0.0));
    }

    @Test
    void shouldNameAMissingSize() {
        assertThatThrownBy(() -> ProcStatus.parse(List.of("VmRSS:\t 1 kB"))).hasMessageContaining("RssAnon");
    }

    @Test
    void shouldReadThisJvmsOwnStatus() throws Exception {
        ProcStatus self = ProcStatus.read(ProcessHandle.current().pid());

        assertThat(self.rssMb()).isPositive().isGreaterThanOrEqualTo(self.anonMb());
    }
}
