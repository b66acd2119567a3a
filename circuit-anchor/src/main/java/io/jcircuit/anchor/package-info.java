/**
 * The anchor layer (DESIGN §2): the live namespace, the durable store and membership, kept in
 * ZooKeeper through Apache Curator. Curator and ZooKeeper types stay inside this package; the API
 * sees {@link io.jcircuit.Anchors} and {@link io.jcircuit.Durable}.
 *
 * <h2>Layout in ZooKeeper</h2>
 * Everything lives under one root znode, {@code /jcircuit} by default ({@link NamespaceConfig#root}),
 * so that several circuits can share an ensemble:
 * <pre>
 *   /jcircuit/anchors/worker/R0123456789abcdef   ephemeral: every runtime, filed by itself
 *   /jcircuit/anchors/host/&lt;name&gt;               ephemeral: every host daemon
 *   /jcircuit/anchors/&lt;user dirs&gt;/R…            ephemeral: runtimes filed under anchors
 *   /jcircuit/durable/&lt;path&gt;                     persistent: durable values
 * </pre>
 * Directories are container znodes, created as needed and removed when empty (by us on a clean
 * removal, and by the server's container manager otherwise). Listings never show an empty directory.
 * An entry's data is a {@link java.util.Properties} text (id, address, host, pid, started, meta.*),
 * readable with any ZooKeeper tool. A durable value's data is one kind byte (1 bytes, 2 object,
 * 3 object signed with the cluster key, 4 bytes signed with it) followed by the value; a signed value
 * is sealed as {@link DurableSeal} says.
 */
package io.jcircuit.anchor;
