package io.jcircuit.test;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.util.stream.Collectors;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Runs a probe test class in this JVM through the JUnit launcher, so that a test can check what
 * {@link LocalCircuit} did before, around and after the probe's tests. Probes carry
 * {@code @ExtendWith(Probes.OnlyWhenProbing.class)} and stay disabled when an IDE or build finds them
 * on their own.
 */
final class Probes {

    private static final String KEY = "io.jcircuit.test.probe";

    private Probes() {
    }

    /** Runs every test of {@code probe} and returns the summary. */
    static TestExecutionSummary run(Class<?> probe) {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
            .selectors(selectClass(probe))
            .configurationParameter(KEY, "true")
            .build(), listener);
        return listener.getSummary();
    }

    /** The failures of a run, one per line, for assertion messages. */
    static String failures(TestExecutionSummary summary) {
        return summary.getFailures().stream()
            .map(f -> f.getTestIdentifier().getDisplayName() + ": " + f.getException())
            .collect(Collectors.joining("\n  ", "failures:\n  ", ""));
    }

    /** Enables a probe only inside {@link #run}. */
    static final class OnlyWhenProbing implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(KEY).isPresent()
                ? ConditionEvaluationResult.enabled("run by Probes")
                : ConditionEvaluationResult.disabled("a probe: runs only inside another test, through Probes.run");
        }
    }
}
