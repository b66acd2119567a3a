package io.jcircuit.bench.hot;

import io.jcircuit.runtime.CircuitRuntime;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Proxy dispatch without I/O: a call on a reference to an object in the same runtime. It takes every
 * step of a remote call except the link: the proxy's handler finds the method's wire name, the call
 * is encoded and decoded (arguments are copies, as for a remote call), the dispatcher finds the
 * export and the method and invokes it within the call's deadline, and the answer is encoded and
 * decoded back. {@link #direct} is the same method called on the object itself.
 *
 * <p>Subtracting {@code CodecBench}'s four figures from {@link #localReference} leaves what the
 * proxy and the dispatcher cost.
 *
 * <p>Run: {@code java -cp "circuit-cli/target/circuit-cli.jar:circuit-cli/target/lib/*" org.openjdk.jmh.Main ProxyBench}
 */
public class ProxyBench extends HotPathBench {

    /** The interface the bench calls; one method, as the bench's echo. */
    public interface Echo {
        String echo(String s);
    }

    private static final class EchoImpl implements Echo {
        @Override
        public String echo(String s) {
            return s;
        }
    }

    private CircuitRuntime runtime;
    private Echo object;
    private Echo reference;
    private String message = "hello";

    @Setup(Level.Trial)
    public void setUp() {
        runtime = CircuitRuntime.start();
        object = new EchoImpl();
        reference = runtime.ref(Echo.class, object);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        runtime.close();
    }

    /** A call through a reference: proxy, codec both ways, dispatcher. */
    @Benchmark
    public String localReference() {
        return reference.echo(message);
    }

    /** The method called on the object, for scale. */
    @Benchmark
    public String direct() {
        return object.echo(message);
    }

    Echo reference() {
        return reference;
    }

    Echo object() {
        return object;
    }
}
