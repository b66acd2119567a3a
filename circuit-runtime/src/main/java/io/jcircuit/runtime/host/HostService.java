package io.jcircuit.runtime.host;

import io.jcircuit.WorkerId;

import java.util.List;

/** What a host daemon offers, published as the service {@value #SERVICE} of its runtime. */
public interface HostService {

    String SERVICE = "circuit.host";
    /** Where host daemons file themselves and their workers: {@code /host/<name>}. */
    String DIR = "/host";

    /**
     * The records this service's calls carry, which every runtime's codec writes without generating a
     * serializer for them (a cold spawner and host each generated six, about 0.2 s, on a spawn's path).
     */
    List<Class<? extends Record>> RECORDS = List.of(SpawnSpec.class, JarRef.class, SpawnedWorker.class);
    /** The metadata key and value that mark a host daemon's own entry under {@code /host/<name>}. */
    String ROLE_KEY = "role";
    String ROLE_HOST = "host";
    String ROLE_WORKER = "worker";
    /**
     * The metadata key of a host's entry that names the fingerprint of its cluster key ({@link #NO_KEY}
     * without one): the hosts of one circuit share a key, and a runtime spawns only on hosts with its own.
     */
    String KEY_KEY = "key";
    /**
     * The metadata key of a host's entry that lists, space-separated, the ids of its warm JVMs: runtimes
     * filed under {@code /worker} that no spawn has taken yet.
     */
    String WARM_KEY = "warm";
    /**
     * The metadata key, with value {@code true}, of a warm JVM's {@code /worker} entry until a spawn takes
     * it: a runtime kept ready, not a worker yet. The CLI's verbs over a directory leave such entries out,
     * and {@code ls -l} shows {@code standby} for their code.
     */
    String STANDBY_KEY = "standby";
    /**
     * The metadata key of a host's entry that holds when it last reported its figures (workers, load,
     * free memory), in milliseconds since the epoch by the host's clock; it reports at least every 10 s
     * while it runs, so an older report means a host that is frozen or cut off from ZooKeeper.
     */
    String REPORTED_KEY = "reported";
    String NO_KEY = "none";

    /**
     * The name of the host daemon whose directory {@code /host/<name>} entry {@code e} is filed in: the
     * daemon itself, or a worker it runs; null for an entry anywhere else. What {@code top}, {@code peek},
     * {@code ls} and the console call a runtime's host.
     */
    static String daemonOf(io.jcircuit.Entry e) {
        String dir = e.dir();
        return dir.startsWith(DIR + "/") && dir.indexOf('/', DIR.length() + 1) < 0 ? dir.substring(DIR.length() + 1) : null;
    }

    /**
     * The host daemon each runtime among {@code entries} (a listing of {@code /host} at any depth) runs
     * under, by its id: the daemons, their workers, and the warm JVMs their entries list ({@link #WARM_KEY}).
     */
    static java.util.Map<WorkerId, String> daemonsOf(java.util.List<io.jcircuit.Entry> entries) {
        java.util.Map<WorkerId, String> names = new java.util.HashMap<>();
        for (io.jcircuit.Entry e : entries) {
            String name = daemonOf(e);
            if (name != null) {
                names.putIfAbsent(e.worker(), name);
                if (ROLE_HOST.equals(e.metadata().get(ROLE_KEY))) {
                    for (String warm : e.metadata().getOrDefault(WARM_KEY, "").trim().split(" +")) {
                        if (WorkerId.looksLikeWorkerId(warm)) {
                            names.putIfAbsent(WorkerId.parse(warm), name);
                        }
                    }
                }
            }
        }
        return names;
    }

    /** What {@link #KEY_KEY} holds for a runtime whose cluster key has {@code fingerprint} (empty: no key). */
    static String keyOf(java.util.Optional<String> fingerprint) {
        return fingerprint.orElse(NO_KEY);
    }

    /**
     * Why a runtime with cluster key {@code fingerprint} cannot work with the hosts among {@code entries}
     * (entries under {@code /host}): the first host, other than {@code self} (null: none), whose key
     * differs, said as "host H of this circuit runs with cluster key K, and this WHAT with L"; empty when
     * every host has the same key.
     */
    static java.util.Optional<String> keyMismatch(java.util.Optional<String> fingerprint, java.util.List<io.jcircuit.Entry> entries,
                                                  String self, String what) {
        String mine = keyOf(fingerprint);
        for (io.jcircuit.Entry e : entries) {
            String theirs = e.metadata().get(KEY_KEY);
            String other = e.dir().substring(e.dir().lastIndexOf('/') + 1);
            if (ROLE_HOST.equals(e.metadata().get(ROLE_KEY)) && theirs != null && !theirs.equals(mine) && !other.equals(self)) {
                return java.util.Optional.of("host " + other + " of this circuit runs "
                    + (theirs.equals(NO_KEY) ? "without a cluster key" : "with cluster key " + theirs)
                    + ", and this " + what + " " + (mine.equals(NO_KEY) ? "without one" : "with " + mine)
                    + ": every runtime of a circuit needs the same key (start it with --key FILE of that key"
                    + (theirs.equals(NO_KEY) ? ", or none" : "") + ")");
            }
        }
        return java.util.Optional.empty();
    }

    /** Starts a worker JVM as {@code spec} says and returns once its runtime answers. */
    SpawnedWorker spawn(SpawnSpec spec);

    /**
     * Puts the jar {@code ref} into this host's jar cache, pulling it from {@code source} in chunks
     * when the cache lacks it, and verifying its hash; {@code circuit deploy} pushes a jar to every host
     * this way before any spawn needs it. Blocks until the jar is cached.
     *
     * @return true when the jar was fetched now, false when the cache already held it
     */
    boolean offerJar(JarRef ref, JarSource source);

    /** Runs an operating-system process as {@code spec} says; returns a reference to it. */
    io.jcircuit.Proc exec(io.jcircuit.ExecSpec spec);

    /** Kills the worker at once; false when this host runs no such worker. */
    boolean kill(WorkerId worker);

    /**
     * The workers this host counts, with their addresses: those it started and those it took back. A worker
     * of its last run that has not filed itself again yet runs but is not among them (see {@link #running}).
     */
    List<SpawnedWorker> workers();

    /**
     * Of {@code workers}, those that run on this host: the ones it counts ({@link #workers}), and the ones
     * whose directory in its workers directory has a {@code pid} file naming a process that runs. The latter
     * covers a worker that outlived the host's last run and has not filed itself again yet (it lost its
     * ZooKeeper session while the host was down): no host lists it, but it runs, and forwarding records
     * that lead to it must stay. What a runtime asks every host before it takes a worker for ended. A host
     * of a build without this method answers at once that it has no method {@code running(java.util.Set)}.
     *
     * @throws NullPointerException when {@code workers} or one of its elements is null
     */
    java.util.Set<WorkerId> running(java.util.Set<WorkerId> workers);

    /** The files of a worker's directory that {@link #workerFile} reads. */
    List<String> WORKER_FILES = List.of("stdout", "stderr", "exit");

    /**
     * The last {@code lines} lines (at most, from its last 4 MiB) of file {@code name}, one of {@link
     * #WORKER_FILES}, in the directory this host keeps for {@code worker}, which may have ended long
     * ago (DESIGN §3: the directory stays for post-mortem reading). Null when this host has no
     * directory for it; an empty list when the file is empty or not there (no {@code exit} while the
     * worker runs).
     *
     * @throws IllegalArgumentException for another file name, or fewer than one line
     */
    List<String> workerFile(WorkerId worker, String name, int lines);

    /** Stops the host: its non-daemon workers are killed, daemonized ones keep running. */
    void stop();
}
