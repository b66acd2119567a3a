package io.jcircuit.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor;
import io.jcircuit.WorkerId;
import io.jcircuit.codec.MessageCodec;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The warnings an interceptor causes on every call (it throws; it puts a context the call cannot carry) are
 * limited for each interceptor: the first {@link WarningLimit#BURST}, then one per
 * {@link WarningLimit#INTERVAL_NANOS} that counts those left out. Before, each call logged one.
 */
class InterceptorWarningsTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(Instrumentation.class);

    @BeforeEach
    void attachLog() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void detachLog() {
        logger.detachAppender(log);
    }

    /** Throws from both hooks a caller's interceptor has. */
    private static final class Throwing implements CallInterceptor {
        @Override
        public void outgoing(CallInfo call, Map<String, String> context) {
            throw new IllegalStateException("outgoing bug");
        }

        @Override
        public void completed(CallEvent event) {
            throw new IllegalStateException("completed bug");
        }

        @Override
        public String toString() {
            return "throwing";
        }
    }

    /** Puts one entry more than a call can carry. */
    private static final class TooMuchContext implements CallInterceptor {
        @Override
        public void outgoing(CallInfo call, Map<String, String> context) {
            for (int i = 0; i <= MessageCodec.MAX_CONTEXT_ENTRIES; i++) {
                context.put("k" + i, "v");
            }
        }

        @Override
        public String toString() {
            return "too-much-context";
        }
    }

    @Test
    void aBadInterceptorOnABusyRuntimeLogsAFewWarningsNotOneACall() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        a.intercept(new Throwing());
        a.intercept(new TooMuchContext());

        for (int i = 0; i < 50; i++) {
            assertThat(echo.echo("x" + i)).isEqualTo("x" + i);
        }

        // each kind of warning of each interceptor apart: the throwing one's failures (from two hooks), the
        // other's dropped contexts
        assertThat(warnings("throwing failed")).hasSize(WarningLimit.BURST);
        assertThat(warnings("too-much-context put entries")).hasSize(WarningLimit.BURST);
        assertThat(warnings("throwing failed").getLast()).contains("more like it are logged at most once a minute");
    }

    @Test
    void pastTheFirstFewOneWarningAMinuteSaysHowManyWereLeftOut() {
        AtomicLong now = new AtomicLong(1_000);
        Instrumentation hooks = new Instrumentation(null, now::get);
        hooks.add(new Throwing());
        WorkerId peer = new WorkerId(0x42);

        for (int i = 0; i < 100; i++) {
            hooks.outgoing(peer, i, "Echo.echo(String)");
        }
        assertThat(warnings("throwing failed")).hasSize(WarningLimit.BURST);

        now.addAndGet(WarningLimit.INTERVAL_NANOS - 1);
        hooks.outgoing(peer, 100, "Echo.echo(String)");
        assertThat(warnings("throwing failed")).as("within the minute").hasSize(WarningLimit.BURST);

        now.addAndGet(1);
        hooks.outgoing(peer, 101, "Echo.echo(String)");
        hooks.outgoing(peer, 102, "Echo.echo(String)");
        assertThat(warnings("throwing failed")).hasSize(WarningLimit.BURST + 1);
        assertThat(warnings("throwing failed").getLast())
            .contains((100 - WarningLimit.BURST + 1) + " more like it were not logged since the last one");
        assertThat(log.list.getLast().getThrowableProxy()).as("the stack trace is kept").isNotNull();
    }

    @Test
    void anInterceptorAddedAgainAfterItWasRemovedStartsWithItsFirstFewWarnings() {
        Instrumentation hooks = new Instrumentation(null, () -> 0);
        Throwing throwing = new Throwing();
        io.jcircuit.Subscription added = hooks.add(throwing);
        for (int i = 0; i < 10; i++) {
            hooks.outgoing(new WorkerId(0x42), i, "m()");
        }
        added.close();
        hooks.add(throwing);
        hooks.outgoing(new WorkerId(0x42), 10, "m()");

        assertThat(warnings("throwing failed")).hasSize(WarningLimit.BURST + 1);
    }

    private List<String> warnings(String containing) {
        return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
            .filter(m -> m.contains(containing)).toList();
    }
}
