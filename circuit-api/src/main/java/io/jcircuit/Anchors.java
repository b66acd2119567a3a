package io.jcircuit;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The live namespace of a circuit: a tree of anchor directories under which runtimes file
 * themselves, like labels. Get it from {@link Circuit#anchors()}.
 *
 * <h2>Paths</h2>
 * A path is absolute, {@code /}-separated, and made of components of letters, digits and
 * {@code . _ - : @ + = ,}, at most 255 characters each ({@code .} and {@code ..} alone are not
 * allowed). Entries are named by worker id, so a directory component that looks like a worker id
 * ({@code R} and 16 hex digits) is rejected, as are the reserved top directories {@code /worker} and
 * {@code /host}, which the runtimes and hosts fill by themselves. A bad path gets an
 * {@link IllegalArgumentException} naming it.
 *
 * <h2>Entries and directories</h2>
 * Filing this runtime under {@code /wordcount/map} creates the entry
 * {@code /wordcount/map/R0123456789abcdef}, which carries the runtime's address and metadata.
 * Directories appear when an entry is filed below them and vanish when none is left; nobody
 * creates or removes them. Entries are ephemeral: they go when the runtime closes, at once, or
 * within the ZooKeeper session timeout when it crashes.
 *
 * <h2>Revisions</h2>
 * Every {@link Listing} carries a revision that grows with every change while the directory exists,
 * and is 0 when it is empty or does not exist (so a directory that empties goes back to 0). {@link #awaitChange}
 * blocks for a revision other than the one given; {@link #watch} calls back on each new one.
 */
public interface Anchors {

    /**
     * Files this runtime under {@code dir}, with no metadata. Filing under a directory where this
     * runtime is already filed replaces the metadata and returns a handle on the same entry.
     */
    default Anchor file(String dir) {
        return file(dir, Map.of());
    }

    /** Files this runtime under {@code dir}; the entry carries {@code metadata}. */
    Anchor file(String dir, Map<String, String> metadata);

    /** The directories this runtime is filed under, besides {@code /worker}. */
    Set<String> filed();

    /** The entries directly in {@code dir} and its non-empty subdirectories; empty when it does not exist. */
    Listing<Entry> list(String dir);

    /** Every entry below {@code dir} at any depth, and every non-empty directory below it. */
    Listing<Entry> listAll(String dir);

    /**
     * Blocks until the listing of {@code dir} has a revision other than {@code sinceRevision}, and
     * returns it; when {@code timeout} passes first, returns the current listing, whose revision then
     * equals {@code sinceRevision} unless a change raced the timeout. Pass 0 to wait for a directory
     * that does not exist yet.
     *
     * @throws IllegalStateException when the runtime closes while this waits (at once, not at the
     *                               timeout), or has closed
     */
    Listing<Entry> awaitChange(String dir, long sinceRevision, Duration timeout) throws InterruptedException;

    /**
     * Calls {@code listener} with the listing of {@code dir} now and after each change, one call at a
     * time, until the subscription is closed. Changes that come close together may be reported once.
     */
    Subscription watch(String dir, Consumer<Listing<Entry>> listener);

    /**
     * Reports entries that join and leave {@code dir} (direct entries only). The entries there when it
     * is called are replayed as joins first, and one of them that leaves right after is reported
     * as leaving.
     */
    Subscription subscribe(String dir, Membership listener);

    /** A handle on the runtime that an entry stands for, on which references can be dialed. */
    Worker worker(Entry entry);
}
