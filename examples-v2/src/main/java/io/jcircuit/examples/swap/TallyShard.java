package io.jcircuit.examples.swap;

/**
 * One shard of a sharded tally, the service {@code bin/circuit demo swap} keeps under load while it
 * swaps every shard to a new version. Both versions of the code (this module, and {@code examples-v2})
 * declare it the same way.
 */
public interface TallyShard {

    /** The service name a shard listens under. */
    String SERVICE = "tally.shard";

    /** Adds {@code n} to {@code key}'s count; returns the new count and who counted it. */
    Ack add(String key, long n);

    /** The count of {@code key}, 0 when never added. */
    long count(String key);

    /** Which build of the code serves: {@code v1} or {@code v2}. */
    String version();

    /**
     * An add's answer: the key's new count, the version of the code that counted it, and (new in this
     * version) how many adds this shard served itself. A version 1 caller reads it without the new field.
     */
    record Ack(long count, String version, long servedHere) implements java.io.Serializable {
    }
}
