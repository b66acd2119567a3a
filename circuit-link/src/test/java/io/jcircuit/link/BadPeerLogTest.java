package io.jcircuit.link;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BadPeerLogTest {

    @Test
    void logsAtMostSoManyLinesAMinuteAndCountsTheRest() {
        Logger logger = (Logger) org.slf4j.LoggerFactory.getLogger("BadPeerLogTest." + System.nanoTime());
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
        BadPeerLog log = new BadPeerLog(logger, now::get);

        for (int i = 0; i < 3_000; i++) {
            log.closed("connection from /127.0.0.1:" + i, "garbage");
        }

        assertThat(lines.list).hasSize(BadPeerLog.PER_MINUTE + 1);
        assertThat(lines.list.get(0).getFormattedMessage()).isEqualTo("connection from /127.0.0.1:0 closed: garbage");
        assertThat(lines.list.get(BadPeerLog.PER_MINUTE).getFormattedMessage())
            .startsWith("more connections closed over bad input: counted, and logged at most 20 a minute");

        now.addAndGet(61_000_000_000L); // a minute later
        log.closed("connection from /127.0.0.1:9", "garbage");
        assertThat(lines.list.getLast().getFormattedMessage())
            .isEqualTo("connection from /127.0.0.1:9 closed: garbage (2980 more connections closed over bad input since the last such line)");
    }
}
