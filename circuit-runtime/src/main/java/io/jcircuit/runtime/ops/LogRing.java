package io.jcircuit.runtime.ops;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The last lines this process logged, kept in a bounded ring, and the followers that want each new
 * line ({@code circuit log -f}). A follower that fails is dropped.
 */
public final class LogRing {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private final int capacity;
    private final ArrayDeque<String> lines;
    private final CopyOnWriteArrayList<Consumer<String>> followers = new CopyOnWriteArrayList<>();

    LogRing(int capacity) {
        this.capacity = capacity;
        this.lines = new ArrayDeque<>(capacity);
    }

    /** Up to {@code n} recent lines, oldest first. */
    public synchronized List<String> tail(int n) {
        List<String> all = new ArrayList<>(lines);
        return all.subList(Math.max(0, all.size() - Math.max(0, n)), all.size());
    }

    /** Calls {@code follower} with every new line until it throws or is removed. */
    public void follow(Consumer<String> follower) {
        followers.add(follower);
    }

    /**
     * Up to {@code n} recent lines, oldest first, and {@code follower} called with every line after
     * them: none is missed or given twice between the two.
     */
    public synchronized List<String> tailAndFollow(int n, Consumer<String> follower) {
        List<String> before = tail(n);
        followers.add(follower);
        return before;
    }

    public void unfollow(Consumer<String> follower) {
        followers.remove(follower);
    }

    /**
     * Keeps {@code line} and hands it to the followers, under the ring's lock: two threads that log at
     * once reach every follower in the order the ring keeps. A follower must not block (it queues).
     */
    synchronized void add(String line) {
        if (lines.size() == capacity) {
            lines.removeFirst();
        }
        lines.addLast(line);
        for (Consumer<String> f : followers) {
            try {
                f.accept(line);
            } catch (RuntimeException e) {
                followers.remove(f);
            }
        }
    }

    Appender appender(ch.qos.logback.classic.LoggerContext context, String name) {
        Appender a = new Appender(this);
        a.setContext(context);
        a.setName(name);
        return a;
    }

    /** The logback side: formats each event as one line (and its stack trace) into the ring. */
    static final class Appender extends AppenderBase<ILoggingEvent> {
        private final LogRing ring;

        Appender(LogRing ring) {
            this.ring = ring;
        }

        LogRing ring() {
            return ring;
        }

        @Override
        protected void append(ILoggingEvent e) {
            StringBuilder sb = new StringBuilder(128)
                .append(TIME.format(Instant.ofEpochMilli(e.getTimeStamp()))).append(' ')
                .append(e.getLevel()).append(" [").append(e.getThreadName()).append("] ")
                .append(e.getLoggerName()).append(" - ").append(e.getFormattedMessage());
            if (e.getThrowableProxy() != null) {
                sb.append(System.lineSeparator()).append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
            }
            ring.add(sb.toString());
        }
    }
}
