package io.jcircuit.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.Map;
import java.util.function.Function;

/**
 * The logging set-up of the launcher and of every worker started from its classpath, in code rather
 * than in a {@code logback.xml}. Reading an XML configuration costs logback its Joran parser and the
 * JDK's XML stack, about 540 classes and, in a JVM without a class archive, 0.2 to 0.3 s of start
 * (docs/performance.md); every {@code circuit} command and every cold worker paid it.
 *
 * <p>What it sets: warnings and worse to standard error as {@code HH:mm:ss.SSS LEVEL logger - message};
 * Netty and Fory at WARN, two known Fory notices (class registration is not forced) at ERROR, and
 * ZooKeeper and Curator off, since they narrate every reconnect and the commands report failures
 * themselves. Two environment variables change the levels: {@code CIRCUIT_LOG_LEVEL} (the root,
 * WARN by default) and {@code CIRCUIT_ZK_LOG_LEVEL} (ZooKeeper and Curator, OFF by default).
 *
 * <p>A configuration of the user's own wins: when {@code logback.configurationFile} is set, or a
 * {@code logback-test.xml} or {@code logback.xml} is on the classpath, this steps aside and logback
 * reads that file as usual. Found by logback through {@code META-INF/services}.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {

    static final String ROOT_LEVEL_ENV = "CIRCUIT_LOG_LEVEL";
    static final String ZK_LEVEL_ENV = "CIRCUIT_ZK_LOG_LEVEL";
    /** The lines' format, as a logback pattern; {@link LogLine} writes it. */
    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n";

    private final Function<String, String> env;
    private final Function<String, Boolean> hasResource;

    /** For logback's service loader: the process environment and this class's class path. */
    public LogSetup() {
        this(System::getenv, name -> LogSetup.class.getClassLoader().getResource(name) != null);
    }

    LogSetup(Function<String, String> env, Function<String, Boolean> hasResource) {
        this.env = env;
        this.hasResource = hasResource;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
            || hasResource.apply("logback-test.xml") || hasResource.apply("logback.xml")) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY; // the user's file; logback reads it next
        }
        LogLine line = new LogLine(); // writes PATTERN's lines without compiling it
        line.setContext(context);
        line.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(line);
        encoder.start();
        ConsoleAppender<ILoggingEvent> err = new ConsoleAppender<>();
        err.setContext(context);
        err.setName("ERR");
        err.setTarget("System.err");
        err.setEncoder(encoder);
        err.start();

        Level zk = level(ZK_LEVEL_ENV, Level.OFF);
        Map<String, Level> levels = Map.of(
            "io.netty", Level.WARN,
            "org.apache.fory", Level.WARN,
            "org.apache.fory.config.ForyBuilder", Level.ERROR,
            "org.apache.fory.serializer.ObjectStreamSerializer", Level.ERROR,
            "org.apache.zookeeper", zk,
            "org.apache.curator", zk);
        levels.forEach((name, level) -> context.getLogger(name).setLevel(level));
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(level(ROOT_LEVEL_ENV, Level.WARN));
        root.addAppender(err);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** The level named by environment variable {@code var}, or {@code otherwise}; a bad name is reported. */
    private Level level(String var, Level otherwise) {
        String v = env.apply(var);
        if (v == null || v.isBlank()) {
            return otherwise;
        }
        Level l = Level.toLevel(v.trim(), null); // case does not matter
        if (l == null) {
            System.err.println("circuit: " + var + "=" + v + " is not a log level (TRACE, DEBUG, INFO, WARN, ERROR, OFF);"
                + " using " + otherwise);
            return otherwise;
        }
        return l;
    }
}
