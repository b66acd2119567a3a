package io.jcircuit.runtime;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.jcircuit.codec.RefDescriptor;
import org.junit.jupiter.api.Test;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class ImportTableTest {

    @Test
    void aPinGoesWhenItExpiresWithoutAnotherPass() {
        ImportTable table = new ImportTable(Cleaner.create(), releases -> { }, Duration.ofMillis(200).toNanos());
        RefDescriptor d = new RefDescriptor(new WorkerId(0x42), Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());

        table.pin(new RefHandler(null, d));
        table.pin(new RefHandler(null, d));
        assertThat(table.pinned()).isEqualTo(2);

        // before, pins went only when a later pass found them expired: the last ones passed stayed
        await().atMost(Duration.ofSeconds(10)).until(() -> table.pinned() == 0);
    }
}
