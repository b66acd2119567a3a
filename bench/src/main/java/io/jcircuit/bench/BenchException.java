package io.jcircuit.bench;

/** The bench could not produce its figures: a child JVM failed, hung, or printed something unreadable. */
final class BenchException extends RuntimeException {

    BenchException(String message) {
        super(message);
    }

    BenchException(String message, Throwable cause) {
        super(message, cause);
    }
}
