package io.jcircuit.runtime.ops;

import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The logging of this process, as the ops service reaches it: logger levels ({@code log.LOGGER} keys)
 * and a tail of recent lines. Both need logback, the backend the launcher and the CLI ship; a process
 * that logs through another SLF4J backend gets a clear error, and everything else still works.
 *
 * <p>Logging belongs to the process, not to one runtime: several runtimes in one JVM see the same
 * levels and the same tail. The tail is a ring appender attached once to logback's root logger,
 * found again by its name, so no static state is needed here.
 */
public final class LogControl {

    /** The prefix of the settings keys that name loggers: {@code log.root}, {@code log.io.jcircuit}. */
    public static final String PREFIX = "log.";
    static final String RING_NAME = "circuit-ops-tail";
    private static final int RING_LINES = 4_096;

    private final boolean logback;

    public LogControl() {
        this.logback = isLogback();
    }

    private static boolean isLogback() {
        try {
            Class.forName("ch.qos.logback.classic.LoggerContext", false, LogControl.class.getClassLoader());
            return LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Whether levels and the tail work in this process. */
    public boolean available() {
        return logback;
    }

    private void require() {
        if (!logback) {
            throw new UnsupportedOperationException("this process logs through " + LoggerFactory.getILoggerFactory().getClass().getName()
                + ", not logback: log levels and the log tail need logback on the worker's classpath");
        }
    }

    /** The levels set explicitly, as {@code log.LOGGER -> LEVEL}. */
    public Map<String, String> levels() {
        Map<String, String> m = new TreeMap<>();
        if (!logback) {
            return m;
        }
        for (ch.qos.logback.classic.Logger l : context().getLoggerList()) {
            if (l.getLevel() != null) {
                m.put(PREFIX + (l.getName().equals(org.slf4j.Logger.ROOT_LOGGER_NAME) ? "root" : l.getName()), l.getLevel().toString());
            }
        }
        return m;
    }

    /** The effective level of the logger named by {@code key}. */
    public String get(String key) {
        require();
        return logger(key).getEffectiveLevel().toString();
    }

    /** Sets the level of the logger named by {@code key}; {@code inherit} clears it (not on root). */
    public String set(String key, String level) {
        require();
        ch.qos.logback.classic.Logger l = logger(key);
        String want = level.trim().toUpperCase(Locale.ROOT);
        if (want.equals("INHERIT") || want.equals("NULL")) {
            if (l.getName().equals(org.slf4j.Logger.ROOT_LOGGER_NAME)) {
                throw new IllegalArgumentException("the root logger cannot inherit a level");
            }
            l.setLevel(null);
            return l.getEffectiveLevel().toString();
        }
        if (!List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF", "ALL").contains(want)) {
            throw new IllegalArgumentException("'" + level + "' is not a log level: TRACE, DEBUG, INFO, WARN, ERROR, OFF, or INHERIT");
        }
        l.setLevel(ch.qos.logback.classic.Level.toLevel(want));
        return l.getLevel().toString();
    }

    private ch.qos.logback.classic.Logger logger(String key) {
        String name = key.substring(PREFIX.length());
        if (name.isEmpty()) {
            throw new IllegalArgumentException("'" + key + "' names no logger: use log.root or log.LOGGER.NAME");
        }
        return context().getLogger(name.equals("root") ? org.slf4j.Logger.ROOT_LOGGER_NAME : name);
    }

    private static ch.qos.logback.classic.LoggerContext context() {
        return (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
    }

    /** The ring of recent lines, attached to the root logger on first use. */
    public LogRing ring() {
        require();
        ch.qos.logback.classic.Logger root = context().getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        synchronized (root) {
            if (root.getAppender(RING_NAME) instanceof LogRing.Appender a) {
                return a.ring();
            }
            LogRing ring = new LogRing(RING_LINES);
            LogRing.Appender a = ring.appender(context(), RING_NAME);
            a.start();
            root.addAppender(a);
            return ring;
        }
    }

    /** Up to {@code lines} recent lines, oldest first. */
    public List<String> tail(int lines) {
        return new ArrayList<>(ring().tail(lines));
    }
}
