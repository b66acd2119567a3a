package io.jcircuit.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.TimeZone;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link LogLine} writes, event for event, what logback's pattern layout writes for {@link LogSetup#PATTERN}. */
class LogLineTest {

    private static final List<String> LOGGERS = List.of("ROOT", "x", "Main", "io.jcircuit.runtime.CircuitRuntime",
        "io.jcircuit.cli.LogSetup", "org.apache.zookeeper.ClientCnxn", "a.b.c.d.e.f.g.h.i.j.k.VeryLongClassNameIndeed",
        "twenty.chars.exactly", "twenty.chars.exactly1", "io.netty.util.internal.PlatformDependent0",
        "org.apache.fory.config.ForyBuilder", "..odd..name.", "io.jcircuit.runtime.Dispatcher$Lingerer");

    @Test
    void shouldWriteWhatThePatternLayoutWrites() {
        LoggerContext context = new LoggerContext();
        LogLine line = new LogLine();
        line.setContext(context);
        line.start();

        List<LoggingEvent> events = new ArrayList<>();
        long noon = 1_795_984_200_123L;
        long[] times = {0L, 5L, 59_999L, noon, noon + 7, noon + 80, noon + 86_399_999L, 1_700_000_000_000L,
            1_711_846_799_999L /* around a DST change in many zones */, -1L};
        Throwable nested = new IllegalStateException("outer", new java.io.IOException("inner"));
        nested.addSuppressed(new RuntimeException("also"));
        int i = 0;
        for (String name : LOGGERS) {
            for (Level level : List.of(Level.ERROR, Level.WARN, Level.INFO, Level.DEBUG, Level.TRACE)) {
                Logger logger = context.getLogger(name);
                Throwable t = i % 3 == 0 ? nested : i % 3 == 1 ? new Error("plain") : null;
                LoggingEvent e = new LoggingEvent(Logger.class.getName(), logger, level, "call {} took {} ms", t,
                    new Object[] {i, 1.5});
                e.setTimeStamp(times[i % times.length]);
                events.add(e);
                i++;
            }
        }
        TimeZone before = TimeZone.getDefault();
        try {
            for (String zone : List.of("UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata")) {
                TimeZone.setDefault(TimeZone.getTimeZone(zone));
                LogLine inZone = new LogLine();
                inZone.setContext(context);
                inZone.start();
                PatternLayout patternInZone = new PatternLayout();
                patternInZone.setContext(context);
                patternInZone.setPattern(LogSetup.PATTERN);
                patternInZone.start();
                for (LoggingEvent e : events) {
                    assertThat(inZone.doLayout(e)).as("%s in %s", e, zone).isEqualTo(patternInZone.doLayout(e));
                }
            }
        } finally {
            TimeZone.setDefault(before);
        }
        assertThat(line.doLayout(events.get(0))).contains("java.lang.IllegalStateException: outer")
            .contains("Caused by: java.io.IOException: inner").contains("Suppressed: java.lang.RuntimeException: also");
    }
}
