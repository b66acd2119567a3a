package io.jcircuit.anchor;

import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A persistent recursive ZooKeeper watch on one znode, which need not exist yet: every create,
 * delete or data change at or below it runs {@code onChange}. A new session loses server-side
 * watches, so on every reconnect the watch is added again and {@code onChange} runs once, covering
 * whatever changed while the connection was down. {@code onChange} must be quick; it runs on
 * Curator's event thread.
 */
public final class DirWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DirWatch.class);

    private final Namespace ns;
    /** The full path, root included: Curator cannot remove a watch added through a namespaced client. */
    private final String znode;
    private final Runnable onChange;
    private final Watcher watcher;
    private final ConnectionStateListener reconnect;
    private volatile boolean closed;

    private DirWatch(Namespace ns, String znode, Runnable onChange) {
        this.ns = ns;
        this.znode = "/" + ns.config().root() + znode;
        this.onChange = onChange;
        this.watcher = this::onEvent;
        this.reconnect = (c, state) -> {
            if (state == ConnectionState.RECONNECTED && !closed) {
                addQuietly();
                onChange.run();
            }
        };
    }

    static DirWatch start(Namespace ns, String znode, Runnable onChange) {
        DirWatch w = new DirWatch(ns, znode, onChange);
        ns.client().getConnectionStateListenable().addListener(w.reconnect);
        try {
            ns.call("watch", Namespace.shownPath(znode), () -> { // the user's path in a failure, as listings say
                ns.rawClient().watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(w.watcher).forPath(w.znode);
                return null;
            });
        } catch (RuntimeException e) {
            ns.client().getConnectionStateListenable().removeListener(w.reconnect);
            throw e;
        }
        return w;
    }

    private void onEvent(WatchedEvent e) {
        if (!closed && e.getType() != Watcher.Event.EventType.None) {
            onChange.run();
        }
    }

    private void addQuietly() {
        try {
            ns.rawClient().watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).inBackground()
                .usingWatcher(watcher).forPath(znode);
        } catch (Exception e) {
            LOG.debug("cannot watch {} again yet: {}", znode, e.toString());
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ns.client().getConnectionStateListenable().removeListener(reconnect);
        if (ns.isClosing()) {
            // The session ends next (Namespace.beginClose), and the watch with it, here and at the server;
            // until then it fires into nothing. Removing it at the server retried for seconds when the
            // server had just gone, and even removing it here alone waits for the client's next
            // connection attempt when it is disconnected.
            return;
        }
        try {
            if (ns.isConnected()) {
                ns.rawClient().watchers().remove(watcher).ofType(Watcher.WatcherType.PersistentRecursive).quietly().forPath(znode);
            } else {
                // no server to ask: drop it here; the server's copy dies with the session or fires into nothing
                ns.rawClient().watchers().remove(watcher).ofType(Watcher.WatcherType.PersistentRecursive).locally().forPath(znode);
            }
        } catch (Exception e) {
            LOG.debug("cannot remove the watch on {}: {}", znode, e.toString());
        }
    }
}
