package io.jcircuit.anchor;

import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * One filed ephemeral entry. Curator's {@link PersistentNode} keeps it in place: it creates the
 * parents as container znodes, and files the entry again after a reconnect, after a new session
 * follows an expired one, and when someone deletes it. Closing removes the entry and prunes the
 * directories it leaves empty.
 */
public final class EntryNode implements AutoCloseable {

    private final Namespace ns;
    private final String znode;
    private final PersistentNode node;
    private volatile boolean closed;

    EntryNode(Namespace ns, String znode, byte[] data) {
        this.ns = ns;
        this.znode = znode;
        this.node = new PersistentNode(ns.client(), CreateMode.EPHEMERAL, false, znode, data, true);
    }

    void start(int timeoutMs) {
        node.start();
        boolean created;
        try {
            created = node.waitForInitialCreate(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            created = false;
        }
        if (!created) {
            closeNode();
            throw new NamespaceException("could not file " + znode + " in ZooKeeper at " + ns.config().connectString()
                + " within " + timeoutMs + " ms");
        }
    }

    /** Replaces the entry's data. */
    public void setData(byte[] data) {
        ns.call("update", znode, () -> {
            node.setData(data);
            return null;
        });
    }

    /** Removes the entry now. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeNode();
        ns.prune(znode, Namespace.ANCHORS);
    }

    private void closeNode() {
        try {
            node.close();
        } catch (IOException | RuntimeException e) {
            // the session ending removes the ephemeral node anyway
        }
    }

    @Override
    public String toString() {
        return "EntryNode(" + znode + ")";
    }
}
