package io.jcircuit.cli;

import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;

import java.util.TimeZone;

/**
 * The line {@link LogSetup} logs, {@code HH:mm:ss.SSS LEVEL logger - message}, put together directly
 * rather than by logback's {@code PatternLayout} from {@link LogSetup#PATTERN}: the same text, with the
 * logger's name shortened the same way (logback's abbreviator) and a logged exception's stack trace
 * after it (logback's converter, as the pattern layout adds it). Compiling a pattern loads logback's
 * pattern parser and its table of some 70 converters, about 150 classes in every JVM that logs: the
 * launcher's and each worker's (docs/performance.md).
 */
final class LogLine extends LayoutBase<ILoggingEvent> {

    /** The width the logger's name is shortened to, as {@code %logger{20}}. */
    static final int LOGGER_WIDTH = 20;
    private static final int LEVEL_WIDTH = 5;
    private static final long MS_PER_DAY = 86_400_000L;

    private final TimeZone zone = TimeZone.getDefault();
    private final TargetLengthBasedClassNameAbbreviator abbreviator = new TargetLengthBasedClassNameAbbreviator(LOGGER_WIDTH);
    private final ThrowableProxyConverter stackTrace = new ThrowableProxyConverter();

    @Override
    public void start() {
        stackTrace.setContext(getContext());
        stackTrace.start();
        super.start();
    }

    @Override
    public void stop() {
        stackTrace.stop();
        super.stop();
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(128);
        appendTime(line, event.getTimeStamp());
        line.append(' ');
        String level = event.getLevel().toString();
        line.append(level);
        for (int i = level.length(); i < LEVEL_WIDTH; i++) {
            line.append(' ');
        }
        line.append(' ').append(abbreviator.abbreviate(event.getLoggerName()))
            .append(" - ").append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
        if (event.getThrowableProxy() != null) {
            line.append(stackTrace.convert(event));
        }
        return line.toString();
    }

    /** {@code HH:mm:ss.SSS} of {@code epochMillis} in this JVM's time zone. */
    private void appendTime(StringBuilder line, long epochMillis) {
        long ofDay = Math.floorMod(epochMillis + zone.getOffset(epochMillis), MS_PER_DAY);
        twoDigits(line, ofDay / 3_600_000).append(':');
        twoDigits(line, ofDay / 60_000 % 60).append(':');
        twoDigits(line, ofDay / 1_000 % 60).append('.');
        long ms = ofDay % 1_000;
        if (ms < 100) {
            line.append('0');
        }
        twoDigits(line, ms);
    }

    private static StringBuilder twoDigits(StringBuilder line, long n) {
        if (n < 10) {
            line.append('0');
        }
        return line.append(n);
    }
}
