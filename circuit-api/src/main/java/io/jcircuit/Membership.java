package io.jcircuit;

/**
 * Join and leave notifications for one directory, from {@link Anchors#subscribe}. Calls come one at
 * a time, in the order ZooKeeper saw the changes, on a thread of the namespace; a slow listener
 * delays the ones after it, not the runtime.
 */
public interface Membership {

    /** {@code entry} appeared; also called once for each entry present when subscribing. */
    void joined(Entry entry);

    /** {@code entry} went away: its runtime unfiled, closed, or lost its session. */
    void left(Entry entry);
}
