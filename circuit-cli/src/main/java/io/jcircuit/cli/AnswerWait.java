package io.jcircuit.cli;

import picocli.CommandLine.Option;

import java.time.Duration;

/**
 * {@code --timeout}: how long a verb waits for each selected worker's answer before it reports that
 * worker as not answering and goes on with the others. Each verb has its own default, for what it
 * asks: a thread dump takes longer than a ping. {@code kill} and {@code drain} have a {@code --timeout}
 * of their own, which says more than this ({@code kill}: when the host kills the worker instead;
 * {@code drain}: how long calls in progress may take).
 */
final class AnswerWait {

    @Option(names = "--timeout", paramLabel = "SECONDS",
        description = "Seconds to wait for each worker's answer; one that does not answer in time is reported and "
            + "the others are still served (default 5 for peek, top and flow, 10 for log, get and set, 20 for stack).")
    Integer seconds;

    /**
     * The wait: {@code --timeout} when given, else {@code byDefault}.
     *
     * @throws IllegalArgumentException when {@code --timeout} is below 1 second
     */
    Duration or(Duration byDefault) {
        if (seconds == null) {
            return byDefault;
        }
        if (seconds < 1) {
            throw new IllegalArgumentException("--timeout must be at least 1 second, not " + seconds);
        }
        return Duration.ofSeconds(seconds);
    }
}
