package io.jcircuit.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;

class LogSetupTest {

    private static LoggerContext configured(Map<String, String> env, ExecutionStatus expected) {
        LoggerContext context = new LoggerContext();
        LogSetup setup = new LogSetup(env::get, name -> false);
        setup.setContext(context);
        assertThat(setup.configure(context)).isEqualTo(expected);
        return context;
    }

    @Test
    void defaultsWarnToStandardErrorAndSilenceZooKeeper() {
        LoggerContext context = configured(Map.of(), ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.WARN);
        Appender<?> appender = root.getAppender("ERR");
        assertThat(appender).isInstanceOf(ConsoleAppender.class);
        ConsoleAppender<?> err = (ConsoleAppender<?>) appender;
        assertThat(err.isStarted()).isTrue();
        assertThat(err.getTarget()).isEqualTo("System.err");
        assertThat(((LayoutWrappingEncoder<?>) err.getEncoder()).getLayout()).isInstanceOf(LogLine.class);
        assertThat(err.getEncoder().isStarted()).isTrue();
        assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
        assertThat(context.getLogger("org.apache.fory.config.ForyBuilder").getLevel()).isEqualTo(Level.ERROR);
        assertThat(context.getLogger("org.apache.zookeeper").getLevel()).isEqualTo(Level.OFF);
        assertThat(context.getLogger("org.apache.curator.framework").getEffectiveLevel()).isEqualTo(Level.OFF);
        assertThat(context.getLogger("io.jcircuit.runtime").getEffectiveLevel()).isEqualTo(Level.WARN);
    }

    @Test
    void environmentSetsTheLevels() {
        LoggerContext context = configured(Map.of(LogSetup.ROOT_LEVEL_ENV, "debug", LogSetup.ZK_LEVEL_ENV, "INFO"),
            ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.DEBUG);
        assertThat(context.getLogger("org.apache.zookeeper.ClientCnxn").getEffectiveLevel()).isEqualTo(Level.INFO);
        assertThat(context.getLogger("org.apache.curator").getLevel()).isEqualTo(Level.INFO);
    }

    @Test
    void aBadLevelFallsBackToTheDefaultAndSaysSo() {
        java.io.PrintStream was = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
        LoggerContext context;
        try {
            context = configured(Map.of(LogSetup.ROOT_LEVEL_ENV, "loud"), ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        } finally {
            System.setErr(was);
        }
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.WARN);
        assertThat(captured.toString(StandardCharsets.UTF_8)).contains("CIRCUIT_LOG_LEVEL=loud is not a log level");
    }

    @Test
    void stepsAsideForTheUsersOwnFile() {
        LoggerContext context = new LoggerContext();
        LogSetup setup = new LogSetup(name -> null, "logback.xml"::equals);
        setup.setContext(context);
        assertThat(setup.configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("ERR")).isNull();
        assertThat(context.getLogger("org.apache.zookeeper").getLevel()).isNull();
    }

    @Test
    void logbackFindsItAsAService() {
        assertThat(ServiceLoader.load(ch.qos.logback.classic.spi.Configurator.class).stream()
            .map(p -> p.type().getName())).contains(LogSetup.class.getName());
    }
}
