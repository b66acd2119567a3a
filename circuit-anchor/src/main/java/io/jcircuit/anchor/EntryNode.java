package io.jcircuit.anchor;

import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One filed ephemeral entry, kept in place: parents are created as container znodes, and the entry
 * is filed again after every reconnect (a new session after expiry included) and whenever someone
 * deletes it. An entry left from an earlier session of this runtime, not yet expired, is replaced.
 * Closing removes the entry and prunes the directories it leaves empty, at once, or when ZooKeeper is
 * away, as soon as it is back.
 *
 * <p>An entry that holds a name ({@link Claim}, a host's) is filed anew only while the name is still
 * its own: when it must be filed anew and another holds the name by then, the node stops keeping it.
 *
 * <p>Curator's {@code PersistentNode} does much the same, but while the connection is down its
 * background retries call back into themselves until the stack overflows; here re-filing runs on its
 * own virtual thread, one attempt at a time, and waits for the next reconnect when ZooKeeper is away.
 */
public final class EntryNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EntryNode.class);

    private final Namespace ns;
    private final String znode;
    /** The name the entry holds, looked at before the entry is filed anew; null for an entry that holds none. */
    private final Claim claim;
    private volatile byte[] data;
    private volatile boolean closed;
    /** Requests to file the entry again not yet handled; the thread that handles them runs while this is above 0. */
    private final java.util.concurrent.atomic.AtomicInteger refileRequests = new java.util.concurrent.atomic.AtomicInteger();
    private final ConnectionStateListener onState = (c, state) -> {
        if (state == ConnectionState.RECONNECTED) {
            refile();
        }
    };
    private final Watcher onDelete = e -> {
        if (e.getType() == Watcher.Event.EventType.NodeDeleted) {
            refile();
        }
    };

    EntryNode(Namespace ns, String znode, byte[] data) {
        this(ns, znode, data, null);
    }

    EntryNode(Namespace ns, String znode, byte[] data, Claim claim) {
        this.ns = ns;
        this.znode = znode;
        this.data = data.clone();
        this.claim = claim;
    }

    /**
     * A name that an entry holds and another may take while the entry is gone: a host's, which a host
     * started meanwhile may hold by the time this one's new session files it again.
     */
    interface Claim {
        /**
         * Runs {@code file} when the name is still free for this entry, as one step with the look (under
         * the name's lock), and returns null; returns who holds the name instead, without running it.
         */
        String fileIfFree(java.util.concurrent.Callable<Void> file) throws Exception;

        /** Told once, on the re-filing thread, that {@code holder} holds the name: the entry is no longer kept. */
        void lost(String holder);
    }

    /** Files the entry and returns once ZooKeeper has it. */
    void start() {
        ns.client().getConnectionStateListenable().addListener(onState);
        try {
            ns.call("file", Namespace.shownPath(znode), () -> {
                if (!createAndWatch()) {
                    ensure();
                }
                return null;
            });
        } catch (RuntimeException e) {
            closed = true;
            ns.client().getConnectionStateListenable().removeListener(onState);
            throw e;
        }
    }

    /**
     * Files a new entry in one round trip, the common case: the create and the watching exists go out
     * together, and ZooKeeper answers one session's requests in the order they were sent, so the exists
     * sees what the create made. Three round trips were a quarter of a warm spawn's time. Returns false
     * when {@link #ensure} must look: the entry was there already (an earlier session's), its directory
     * did not exist, or it went again at once.
     */
    private boolean createAndWatch() throws Exception {
        CompletableFuture<CuratorEvent> created = new CompletableFuture<>();
        CompletableFuture<CuratorEvent> watched = new CompletableFuture<>();
        long session = ns.client().getZookeeperClient().getZooKeeper().getSessionId();
        ns.client().create().withMode(CreateMode.EPHEMERAL).inBackground((c, e) -> created.complete(e)).forPath(znode, data);
        ns.client().checkExists().usingWatcher(onDelete).inBackground((c, e) -> watched.complete(e)).forPath(znode);
        long wait = ns.config().sessionTimeoutMs();
        try {
            CuratorEvent c = created.get(wait, TimeUnit.MILLISECONDS);
            CuratorEvent w = watched.get(wait, TimeUnit.MILLISECONDS);
            return c.getResultCode() == KeeperException.Code.OK.intValue() && w.getResultCode() == KeeperException.Code.OK.intValue()
                && w.getStat() != null && w.getStat().getEphemeralOwner() == session;
        } catch (TimeoutException e) {
            throw new KeeperException.OperationTimeoutException();
        }
    }

    /** Makes the znode exist, owned by the current session, holding {@link #data}; watches it. */
    private void ensure() throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                Stat st = ns.client().checkExists().usingWatcher(onDelete).forPath(znode);
                long session = ns.client().getZookeeperClient().getZooKeeper().getSessionId();
                if (st == null) {
                    ns.client().create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(znode, data);
                    if (ns.client().checkExists().usingWatcher(onDelete).forPath(znode) != null) {
                        return; // filed and watched
                    }
                    continue; // deleted again before it was watched: file it once more
                }
                if (st.getEphemeralOwner() == session) {
                    byte[] now = ns.client().getData().forPath(znode);
                    if (!Arrays.equals(now, data)) {
                        ns.client().setData().forPath(znode, data);
                    }
                    return;
                }
                // filed by an earlier session of ours that the server has not expired yet
                ns.client().delete().withVersion(st.getVersion()).forPath(znode);
            } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException
                     | KeeperException.BadVersionException raced) {
                if (attempt >= 10 || closed) {
                    throw raced;
                }
            }
        }
    }

    /**
     * Files the entry again on a virtual thread. A request that comes while an attempt runs (the entry
     * deleted by a peer that declared this runtime dead, just as the attempt after a reconnect filed it)
     * makes that thread look once more: before, such a request was dropped, and a host whose embedded
     * ZooKeeper had been paused past the outage limit stayed out of {@code /host} for good. While
     * ZooKeeper is away the thread waits for it to come back rather than ending.
     */
    private void refile() {
        if (closed || refileRequests.getAndIncrement() > 0) {
            return; // the running thread sees the request
        }
        Thread.ofVirtual().name("namespace-refile").start(() -> {
            try {
                int handled;
                do {
                    handled = refileRequests.get();
                    fileUntilDone();
                } while (refileRequests.addAndGet(-handled) > 0 && !closed);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                refileRequests.set(0);
            }
        });
    }

    /** Makes sure the entry is filed, waiting for ZooKeeper while it is away; returns once it is, or closed. */
    private void fileUntilDone() throws InterruptedException {
        while (!closed) {
            try {
                if (!ns.client().getZookeeperClient().blockUntilConnectedOrTimedOut()) {
                    continue; // still away: wait on
                }
            } catch (IllegalStateException notStarted) {
                // the namespace closed its client meanwhile (its runtime is closing): nothing to file
                // into; seen in a CI run as an uncaught "Client is not started" from this thread
                return;
            }
            try {
                ensureOwnName();
                return;
            } catch (Exception e) {
                LOG.debug("cannot file {} again yet: {}", znode, e.toString());
                Thread.sleep(250); // a period between attempts, while ZooKeeper is back but refuses
            }
        }
    }

    /**
     * {@link #ensure}, for an entry that holds a name only while the name is still its own. An entry still
     * there, owned by this session (a reconnect within the session), held the name all along: it is
     * kept without looking. One that is gone (a new session, or deleted) is filed again only when no
     * other holds the name; otherwise the node stops keeping it and tells its claim.
     */
    private void ensureOwnName() throws Exception {
        if (claim == null || ownedBySession()) {
            ensure();
            return;
        }
        String holder = claim.fileIfFree(() -> {
            ensure();
            return null;
        });
        if (holder != null && stopKeeping()) {
            LOG.error("{} is held by {}, filed while this one's entry {} was gone (its session expired, or it was"
                + " deleted); not filing it again beside it", claim, holder, znode);
            claim.lost(holder);
        }
    }

    /** Whether the entry is there, filed by the current session. */
    private boolean ownedBySession() throws Exception {
        Stat st = ns.client().checkExists().forPath(znode);
        return st != null && st.getEphemeralOwner() == ns.client().getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** Replaces the entry's data, and returns once ZooKeeper has it. */
    public void setData(byte[] newData) {
        data = newData.clone();
        ns.call("update", Namespace.shownPath(znode), () -> {
            ns.client().setData().forPath(znode, newData);
            return null;
        });
    }

    /**
     * How long {@link #close} waits for ZooKeeper to remove the entry. A server that stops answering (paused,
     * or cut off without a reset) leaves the client believing it is connected for two thirds of the session
     * timeout, and a delete then waits through the client's retries: 15 s were seen. Past this wait the close
     * returns and the removal goes on behind it.
     */
    static final long CLOSE_WAIT_MS = 1_000;

    /**
     * Stops keeping the entry and removes it, with the directories it leaves empty. While ZooKeeper answers
     * it returns once ZooKeeper has removed it. While ZooKeeper is away, or has not answered within
     * {@link #CLOSE_WAIT_MS}, it returns then, and the entry is removed as soon as ZooKeeper answers again:
     * the session outlives a short outage, and the entry with it, which would otherwise stay filed, and
     * found, for the rest of the session. When the session ends first, the entry goes with it. Idempotent.
     *
     * <p><b>Note:</b> an entry filed again at the same path before the connection is back (a new
     * {@code EntryNode}) is removed with it, and filed again by its own node at once.
     */
    @Override
    public void close() {
        awaitRemoval(closeAsync(), CLOSE_WAIT_MS);
    }

    /**
     * Stops keeping the entry and starts removing it (see {@link #close}); the future completes once the
     * removal is done or handed to the next reconnect. Completed at once when already closed or away.
     */
    CompletableFuture<Void> closeAsync() {
        if (!stopKeeping()) {
            return CompletableFuture.completedFuture(null);
        }
        if (!ns.isConnected()) {
            removeOnceBack();
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofVirtual().name("namespace-remove").start(() -> {
            try {
                if (!removeNow()) {
                    removeOnceBack();
                }
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    /** Waits for {@code removal} at most {@code waitMs}; past it, the removal goes on behind. */
    static void awaitRemoval(CompletableFuture<Void> removal, long waitMs) {
        try {
            removal.get(waitMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException slow) {
            LOG.debug("ZooKeeper has not answered a removal within {} ms; it goes on behind", waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.warn("removing an entry failed: {}", e.getCause().toString()); // removeNow catches what it expects
        }
    }

    /** Stops keeping the entry, without removing it: it goes when the session ends. Returns false when already stopped. */
    boolean stopKeeping() {
        if (closed) {
            return false;
        }
        closed = true;
        ns.client().getConnectionStateListenable().removeListener(onState);
        return true;
    }

    /**
     * Removes the entry and prunes its directories; returns false when ZooKeeper could not be reached,
     * true when the entry is gone or cannot be removed by trying again.
     */
    private boolean removeNow() {
        try {
            ns.client().delete().forPath(znode);
        } catch (KeeperException.NoNodeException | KeeperException.SessionExpiredException gone) {
            return true; // gone already, or going with the session
        } catch (KeeperException.ConnectionLossException | KeeperException.OperationTimeoutException away) {
            return false;
        } catch (IllegalStateException closedClient) {
            return true; // the namespace closed: the session ends, and the entry with it
        } catch (Exception e) {
            LOG.warn("cannot remove {}: {}; it goes with the session", znode, e.toString());
            return true;
        }
        ns.prune(znode, Namespace.ANCHORS);
        return true;
    }

    /**
     * Removes the entry, on a virtual thread, at each reconnect until that succeeds, and at once if the
     * connection came back before this was listening. Ends with the namespace.
     */
    private void removeOnceBack() {
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        ConnectionStateListener[] back = new ConnectionStateListener[1];
        Runnable attempt = () -> {
            if (requests.getAndIncrement() > 0) {
                return; // the running thread sees the request
            }
            Thread.ofVirtual().name("namespace-remove").start(() -> {
                int handled;
                do {
                    handled = requests.get();
                    if (ns.isClosed() || ns.isConnected() && removeNow()) {
                        ns.client().getConnectionStateListenable().removeListener(back[0]);
                        LOG.debug("removed {}, closed while ZooKeeper was away", znode);
                        return; // requests stays above 0: nothing starts another attempt
                    }
                } while (requests.addAndGet(-handled) > 0);
            });
        };
        back[0] = (c, state) -> {
            if (state == ConnectionState.RECONNECTED) {
                attempt.run();
            }
        };
        ns.client().getConnectionStateListenable().addListener(back[0]);
        LOG.debug("{} closed while ZooKeeper is away; removing it when the connection is back", znode);
        if (ns.isConnected()) {
            attempt.run(); // it came back before the listener was added
        }
    }

    @Override
    public String toString() {
        return "EntryNode(" + znode + ")";
    }
}
