package io.jcircuit.observe;

import io.jcircuit.runtime.CircuitRuntime;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/** Starts real runtimes on loopback for one test and closes them after it. */
final class Runtimes implements AfterEachCallback {

    private final List<CircuitRuntime> started = new ArrayList<>();

    CircuitRuntime start() {
        CircuitRuntime rt = CircuitRuntime.start();
        started.add(rt);
        return rt;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (CircuitRuntime rt : started.reversed()) {
            rt.close();
        }
        started.clear();
    }
}
