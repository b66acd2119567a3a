package io.jcircuit.anchor;

import org.apache.zookeeper.server.NIOServerCnxnFactory;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

/**
 * A single ZooKeeper server inside this JVM, bound to loopback, with its data under
 * {@code <stateDir>/zookeeper}. While it runs, its connect string is in
 * {@code <stateDir>/zookeeper/connect}, where {@link ZooKeeperLocator} finds it; a lock file keeps a
 * second process from starting another server on the same data.
 *
 * <p>The server runs with a 500 ms tick, so sessions may last from 1 to 10 s, and with no limit on
 * connections per client address, since every runtime on this machine connects from loopback.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    static final String CONNECT_FILE = "connect";
    /** The port of the last server of this state directory, taken again when it is free. */
    static final String PORT_FILE = "port";

    private final Path dir;
    private final ZooKeeperServerEmbedded server;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final String connectString;
    private final int port;
    /** Removes old snapshots and logs at start and every hour ({@link #purge}). */
    private final java.util.concurrent.ScheduledExecutorService purger;

    private EmbeddedZooKeeper(Path dir, ZooKeeperServerEmbedded server, FileChannel lockChannel, FileLock lock, int port) {
        this.dir = dir;
        this.server = server;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.port = port;
        this.connectString = "127.0.0.1:" + port;
        this.purger = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("circuit-zookeeper-purge-" + port).factory());
    }

    /** The directory of an embedded server under {@code stateDir}. */
    public static Path dirOf(Path stateDir) {
        return stateDir.resolve("zookeeper");
    }

    /**
     * The connect string that a running embedded server under {@code stateDir} wrote, if any. A file
     * left by a server that was killed is ignored: no process holds the lock beside it.
     */
    public static Optional<String> connectStringIn(Path stateDir) {
        Path f = dirOf(stateDir).resolve(CONNECT_FILE);
        try {
            if (!Files.isRegularFile(f) || !serverAlive(dirOf(stateDir))) {
                return Optional.empty();
            }
            return Optional.of(Files.readString(f, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * True when some process (this one included) runs, or is starting, the embedded server of
     * {@code stateDir}: it holds the lock of the server's directory.
     */
    public static boolean runsIn(Path stateDir) {
        return serverAlive(dirOf(stateDir));
    }

    /** True when some process (this one included) holds the lock of the server directory {@code dir}. */
    private static boolean serverAlive(Path dir) {
        Path lockFile = dir.resolve("lock");
        if (!Files.exists(lockFile)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock probe = ch.tryLock();
            if (probe == null) {
                return true;
            }
            probe.release();
            return false;
        } catch (java.nio.channels.OverlappingFileLockException sameJvm) {
            return true;
        } catch (IOException e) {
            return true; // cannot tell: let the connection attempt decide
        }
    }

    /** How many snapshots (with the transaction logs after the oldest of them) the data directory keeps. */
    static final int SNAPSHOTS_KEPT = 3;

    /**
     * Deletes the snapshots of {@code dataDir} older than its {@code kept} newest valid ones, and the
     * transaction logs that only those older snapshots need: what ZooKeeper's own purge removes, without
     * its printing each file to stdout. A host that ran for weeks otherwise grew without end. Safe while
     * the server runs; failures are logged and tried again at the next round.
     */
    static void purge(Path dataDir, int kept) {
        org.apache.zookeeper.server.persistence.FileTxnSnapLog files = null;
        try {
            files = new org.apache.zookeeper.server.persistence.FileTxnSnapLog(dataDir.toFile(), dataDir.toFile());
            java.util.List<java.io.File> newest = files.findNValidSnapshots(kept);
            if (newest.size() < kept) {
                return;
            }
            long oldestKept = org.apache.zookeeper.server.persistence.Util.getZxidFromName(newest.getLast().getName(), "snapshot");
            java.util.Set<java.io.File> logsNeeded = new java.util.HashSet<>(java.util.Arrays.asList(files.getSnapshotLogs(oldestKept)));
            int removed = deleteOlder(files.getDataLogDir(), "log", oldestKept, logsNeeded)
                + deleteOlder(files.getSnapDir(), "snapshot", oldestKept, java.util.Set.of());
            if (removed > 0) {
                LOG.debug("removed {} old ZooKeeper snapshot and log files from {}", removed, dataDir);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot remove old ZooKeeper snapshots from {}: {}", dataDir, e.toString());
        } finally {
            if (files != null) {
                try {
                    files.close();
                } catch (IOException e) {
                    LOG.debug("cannot close the view of {}: {}", dataDir, e.toString());
                }
            }
        }
    }

    /** Deletes the files {@code <prefix>.<zxid>} of {@code dir} below {@code zxid}, except {@code spared}. */
    private static int deleteOlder(java.io.File dir, String prefix, long zxid, java.util.Set<java.io.File> spared) {
        java.io.File[] old = dir.listFiles(f -> f.getName().startsWith(prefix + ".") && !spared.contains(f)
            && org.apache.zookeeper.server.persistence.Util.getZxidFromName(f.getName(), prefix) < zxid);
        int removed = 0;
        for (java.io.File f : old == null ? new java.io.File[0] : old) {
            if (f.delete()) {
                removed++;
            } else {
                LOG.warn("cannot delete the old ZooKeeper file {}", f);
            }
        }
        return removed;
    }

    /**
     * Starts a server keeping its data under {@code stateDir}, on {@code port} of 127.0.0.1 (0 for a
     * free one), and waits until it serves.
     *
     * @throws NamespaceException when another process runs the server of {@code stateDir}, or it
     *                            cannot start
     */
    public static EmbeddedZooKeeper start(Path stateDir, int port) {
        Path dir = dirOf(stateDir.toAbsolutePath());
        FileChannel ch = null;
        FileLock lock = null;
        ZooKeeperServerEmbedded started = null;
        try {
            Files.createDirectories(dir.resolve("data"));
            ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException sameJvm) {
                lock = null;
            }
            if (lock == null) {
                throw new NamespaceException("another runtime already runs the embedded ZooKeeper of " + stateDir
                    + connectStringIn(stateDir).map(c -> " at " + c).orElse("")
                    + "; connect to it with --zookeeper, or use another state directory");
            }
            removeOldConfigurations(dir);
            int p = port != 0 ? port : lastPortIfFree(dir).orElseGet(EmbeddedZooKeeper::freePort);
            Properties props = new Properties();
            props.setProperty("dataDir", dir.resolve("data").toString());
            props.setProperty("clientPort", Integer.toString(p));
            props.setProperty("clientPortAddress", "127.0.0.1");
            props.setProperty("tickTime", "500");
            // ZooKeeper caps a client's session timeout at 20 ticks (10 s here) unless told: a runtime
            // that asks for longer, to ride out longer cuts, gets what it asks for up to 10 minutes
            props.setProperty("maxSessionTimeout", "600000");
            props.setProperty("initLimit", "10");
            props.setProperty("syncLimit", "5");
            props.setProperty("maxClientCnxns", "0");
            props.setProperty("admin.enableServer", "false");
            // ZooKeeper keeps every snapshot and transaction log unless told otherwise; its own purge
            // (autopurge.*) prints a line to stdout for each file it removes, so this class purges (purge)
            initialiseConnectionFactoryKeepingHandler();
            ZooKeeperServerEmbedded server = ZooKeeperServerEmbedded.builder()
                .baseDir(dir)
                .configuration(props)
                .exitHandler(ExitHandler.LOG_ONLY)
                .build();
            started = server;
            server.start(10_000);
            EmbeddedZooKeeper zk = new EmbeddedZooKeeper(dir, server, ch, lock, p);
            zk.purger.scheduleWithFixedDelay(() -> purge(dir.resolve("data"), SNAPSHOTS_KEPT), 0, 1, java.util.concurrent.TimeUnit.HOURS);
            Files.writeString(dir.resolve(PORT_FILE), p + "\n", StandardCharsets.UTF_8);
            Path tmp = dir.resolve(CONNECT_FILE + ".tmp");
            Files.writeString(tmp, zk.connectString + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, dir.resolve(CONNECT_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            LOG.info("embedded ZooKeeper serving at {} with data in {}", zk.connectString, dir);
            return zk;
        } catch (NamespaceException e) {
            closeQuietly(ch);
            throw e;
        } catch (Exception e) {
            if (started != null) {
                started.close();
            }
            closeQuietly(ch);
            throw new NamespaceException("cannot start the embedded ZooKeeper in " + dir + ": " + describe(e), e);
        }
    }

    /**
     * ZooKeeper's NIO connection factory, when its class initialises, makes a handler of its own the
     * JVM's default for uncaught exceptions, one that logs to ZooKeeper's logger (off unless
     * {@code CIRCUIT_ZK_LOG_LEVEL} says otherwise). Every uncaught exception of the process, its
     * {@code main} included, would then vanish without a word. ZooKeeper's own threads have handlers
     * of their own, so the process's handler is put back. The class initialises once per JVM; later
     * starts change nothing.
     */
    private static void initialiseConnectionFactoryKeepingHandler() throws ClassNotFoundException {
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Class.forName(NIOServerCnxnFactory.class.getName(), true, NIOServerCnxnFactory.class.getClassLoader());
        if (Thread.getDefaultUncaughtExceptionHandler() != before) {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }

    /**
     * What went wrong, in words: the JDK's file exceptions often carry only the path (a missing
     * directory, a denied permission), which read as if nothing were said.
     */
    static String describe(Exception e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null) {
            String what = switch (f) {
                case java.nio.file.NoSuchFileException n -> "no such file or directory";
                case java.nio.file.AccessDeniedException d -> "permission denied";
                case java.nio.file.FileAlreadyExistsException x -> "already exists";
                default -> f.getClass().getSimpleName();
            };
            return (f.getFile() == null ? "" : f.getFile() + ": ") + what;
        }
        return e.getMessage();
    }

    public String connectString() {
        return connectString;
    }

    public int port() {
        return port;
    }

    /** Stops the server and removes its connect file; its data stays. Idempotent. */
    @Override
    public void close() {
        purger.shutdownNow();
        try {
            Files.deleteIfExists(dir.resolve(CONNECT_FILE));
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", dir.resolve(CONNECT_FILE), e.toString());
        }
        try {
            server.close();
        } finally {
            try {
                if (lock.isValid()) {
                    lock.release();
                }
            } catch (IOException ignored) {
                // the channel closes next, which releases it anyway
            }
            closeQuietly(lockChannel);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedZooKeeper(" + connectString + ", " + dir + ")";
    }

    /**
     * ZooKeeper's embedded server writes its configuration to a new file in {@code dir} each time it
     * starts, and leaves it there. Under the lock no earlier server runs, so their files can go.
     */
    private static void removeOldConfigurations(Path dir) throws java.io.IOException {
        try (java.nio.file.DirectoryStream<Path> old = Files.newDirectoryStream(dir, "zookeeper.configuration*.properties")) {
            for (Path f : old) {
                Files.deleteIfExists(f);
            }
        }
    }

    /**
     * The port this state directory's server had last time, while it is free: a server started again
     * answers where its clients (other hosts, daemonized workers, shells with the connect string) look
     * for it, and they reconnect by themselves.
     */
    private static java.util.Optional<Integer> lastPortIfFree(Path dir) {
        int last;
        try {
            last = Integer.parseInt(Files.readString(dir.resolve(PORT_FILE), StandardCharsets.UTF_8).strip());
        } catch (IOException | NumberFormatException none) {
            return java.util.Optional.empty();
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true); // as the server binds it: the last server's closed connections do not count
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), last));
            return java.util.Optional.of(last);
        } catch (IOException | IllegalArgumentException taken) {
            return java.util.Optional.empty();
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on loopback", e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing else to release
            }
        }
    }
}
