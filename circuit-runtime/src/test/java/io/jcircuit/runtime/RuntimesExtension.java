package io.jcircuit.runtime;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Starts real runtimes on loopback for one test and closes them after it. Several share the JVM, as
 * the design promises they can.
 */
final class RuntimesExtension implements AfterEachCallback {

    private final List<CircuitRuntime> started = new ArrayList<>();

    CircuitRuntime start() {
        return start(b -> { });
    }

    CircuitRuntime start(Consumer<RuntimeConfig.Builder> settings) {
        RuntimeConfig.Builder b = RuntimeConfig.builder();
        settings.accept(b);
        CircuitRuntime rt = CircuitRuntime.start(b.build());
        started.add(rt);
        return rt;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        closeAll();
    }

    /** Closes the runtimes started so far: before the end of the test, when what they use ends with it (a ZooKeeper). */
    void closeAll() {
        for (CircuitRuntime rt : started) {
            rt.close();
        }
        started.clear();
    }
}
