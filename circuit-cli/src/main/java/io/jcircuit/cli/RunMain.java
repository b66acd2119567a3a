package io.jcircuit.cli;

import io.jcircuit.CircuitScope;
import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.jar.JarFile;

/**
 * The main class of the JVM that {@code circuit run} starts, with the application jar on its
 * classpath (so that spawns ship it). It joins the circuit, or with {@code --local} starts an
 * in-process host daemon with an embedded ZooKeeper, then runs the application's {@code main} with
 * {@link io.jcircuit.Circuit#current()} bound to its runtime, and stops everything once main has returned
 * and the threads it started that are not daemons have ended (as {@code java} waits for them).
 *
 * <p>Arguments: {@code (--local STATE_DIR | --zookeeper CONNECT) APP.jar MAIN|- [ARGS...]}; {@code -}
 * takes the jar's {@code Main-Class}.
 *
 * <p>Its exit status, which {@code circuit run} exits with: the program's (0 once {@code main} has returned
 * and its threads have ended, the status it gave {@code System.exit}), 1 when {@code main} threw, or when
 * there was nothing to run (no such class, no {@code main}) or no circuit to join, said in one line as
 * every {@code circuit} command says a failure; 143 when the launcher ended first; 2 for arguments that
 * are not the above (which {@code circuit run} never passes).
 */
public final class RunMain {

    /** The system property that names the cluster key file of the circuit joined. */
    static final String KEY_PROPERTY = "circuit.key";
    /** Where the program's runtime listens, {@code HOST:PORT} ({@code circuit run --addr}); loopback when absent. */
    static final String ADDR_PROPERTY = "circuit.run.addr";
    /** {@code circuit run --insecure}: the address may be beyond loopback without a cluster key. */
    static final String INSECURE_PROPERTY = "circuit.run.insecure";
    /**
     * The system property that names the process id of the {@code circuit run} that started this JVM: the
     * program exits when that process ends, however it ended.
     */
    static final String PARENT_PROPERTY = "circuit.run.parent";

    private RunMain() {
    }

    /**
     * Exits (closing the runtime and the program's workers through the shutdown hooks) once the
     * {@code circuit run} process that started this JVM has ended: killed with SIGKILL, it runs no shutdown
     * hook of its own, and this JVM, the program's spawner, kept its workers running.
     */
    private static void endWithTheLauncher() {
        String parent = System.getProperty(PARENT_PROPERTY);
        if (parent == null) {
            return;
        }
        // on a thread of its own: System.exit waits for the shutdown hooks, and the one that closes a local
        // host waits for its workers' exits, which complete on the common pool this callback would hold
        Runnable exit = () -> Thread.ofPlatform().name("circuit-run-launcher-ended").start(() -> {
            System.err.println("circuit run: the launcher (pid " + parent + ") has ended; the program ends with it");
            System.exit(143);
        });
        java.util.Optional<ProcessHandle> launcher = ProcessHandle.of(Long.parseLong(parent));
        if (launcher.isEmpty()) {
            exit.run();
        } else {
            launcher.get().onExit().thenRun(exit);
        }
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 4 || !(args[0].equals("--local") || args[0].equals("--zookeeper"))) {
            System.err.println("usage: RunMain (--local STATE_DIR | --zookeeper CONNECT) APP.jar MAIN|- [ARGS...]");
            System.exit(2);
        }
        endWithTheLauncher();
        boolean local = args[0].equals("--local");
        Path jar = Path.of(args[2]);
        String[] appArgs = Arrays.copyOfRange(args, 4, args.length);
        String mainClass = args[3];
        Launch main;
        try {
            if (mainClass.equals("-")) {
                mainClass = mainClassOf(jar);
            }
            main = findMain(mainClass, jar);
        } catch (IllegalArgumentException | IOException e) {
            fail(e, 1); // the command line named no runnable main: said in one line, exit 1, as 'no such jar' is
            return;
        }

        HostDaemon host = null;
        CircuitRuntime rt;
        try {
            String zookeeper = args[1];
            if (local) {
                // its workers, daemonized ones too, end with this process, also when it is killed with SIGKILL
                host = HostDaemon.start(new HostDaemon.Config("local", Path.of(args[1]), null, null, 0).withWorkersEndingWithIt());
                zookeeper = host.zookeeper();
                HostDaemon ownHost = host;
                // Ctrl-C, or the launcher's end: System.exit runs no finally below, only shutdown hooks
                Runtime.getRuntime().addShutdownHook(new Thread(() -> ownHost.close(true), "circuit-run-local-close"));
            }
            String key = System.getProperty(KEY_PROPERTY);
            RuntimeConfig.Builder config = RuntimeConfig.builder().zookeeper(zookeeper)
                .clusterKeyFile(key == null ? null : Path.of(key)).insecure(Boolean.getBoolean(INSECURE_PROPERTY));
            String addr = System.getProperty(ADDR_PROPERTY);
            if (addr != null) {
                io.jcircuit.Address at = io.jcircuit.Address.parse(addr);
                config.bindHost(at.host()).port(at.port());
            }
            rt = CircuitRuntime.start(config.build());
        } catch (RuntimeException e) {
            if (host != null) {
                host.close(true);
            }
            fail(e, 1); // no circuit to join: said in one line, as the other commands say it
            return;
        }
        int code = 0;
        // set as the JVM begins to end (Ctrl-C, kill): the program's calls then fail as its circuit closes
        java.util.concurrent.atomic.AtomicBoolean ending = new java.util.concurrent.atomic.AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> ending.set(true), "circuit-run-ending"));
        try (rt) {
            java.util.Set<Thread> ours = Thread.getAllStackTraces().keySet();
            try {
                ScopedValue.where(CircuitScope.CURRENT, rt).call(() -> {
                    main.call(appArgs);
                    return null;
                });
            } catch (InvocationTargetException e) {
                if (ending.get()) {
                    // not the program's failure: a stack trace of a call cut by the circuit's close read as a crash
                    System.err.println("circuit run: stopped while " + mainClass + ".main ran (" + e.getCause() + ")");
                } else {
                    System.err.println("circuit run: " + mainClass + ".main failed:");
                    e.getCause().printStackTrace();
                }
                code = 1;
            }
            awaitProgramThreads(ours);
        } finally {
            if (host != null) {
                host.close(true); // the local circuit ends with the program, daemonized workers too
            }
        }
        System.exit(code);
    }

    /**
     * Waits, as {@code java} does before its JVM ends, for the threads the program started that are not
     * daemons: those alive now that were not before {@code main}. The runtime and the local circuit stay
     * up for them, and end once the last has.
     */
    private static void awaitProgramThreads(java.util.Set<Thread> before) throws InterruptedException {
        while (true) {
            java.util.Optional<Thread> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.isDaemon() && t != Thread.currentThread() && !before.contains(t))
                .findAny();
            if (left.isEmpty()) {
                return;
            }
            left.get().join();
        }
    }

    /** Says what went wrong in one line, as every {@code circuit} command does, and exits with {@code code}. */
    private static void fail(Exception e, int code) {
        System.err.println("circuit run: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        System.exit(code);
    }

    private static String mainClassOf(Path jar) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException(jar + " is not a jar: give MAIN after it");
        }
        try (JarFile f = new JarFile(jar.toFile())) {
            String m = f.getManifest() == null ? null : f.getManifest().getMainAttributes().getValue("Main-Class");
            if (m == null || m.isBlank()) {
                throw new IllegalArgumentException(jar + " names no Main-Class in its manifest: give MAIN after the jar");
            }
            return m.strip();
        }
    }

    /**
     * The program's {@code main}, chosen as {@code java} 25 launches a class (JEP 512): a non-private
     * {@code main(String[])}, else a non-private {@code main()}, declared or inherited, static or not
     * (then called on an instance made by a non-private constructor without arguments).
     */
    private static Launch findMain(String mainClass, Path jar) {
        if (!Files.exists(jar)) {
            throw new IllegalArgumentException("no such jar: " + jar);
        }
        Class<?> c;
        try {
            c = Class.forName(mainClass);
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("no class " + mainClass + " in " + jar, e);
        }
        Method m = mainIn(c, true);
        if (m == null) {
            m = mainIn(c, false);
        }
        if (m == null) {
            throw new IllegalArgumentException(mainClass + " has no main(String[]) or main() that is not private");
        }
        if (!Modifier.isStatic(m.getModifiers())) {
            try {
                java.lang.reflect.Constructor<?> k = c.getDeclaredConstructor();
                if (Modifier.isPrivate(k.getModifiers())) {
                    throw new NoSuchMethodException();
                }
            } catch (NoSuchMethodException e) {
                throw new IllegalArgumentException(mainClass + "." + m.getName() + " is an instance method, and "
                    + mainClass + " has no constructor without arguments that is not private", e);
            }
        }
        m.setAccessible(true);
        return new Launch(c, m);
    }

    /** A non-private {@code main(String[])} (or {@code main()}) of {@code c} or a superclass, or null. */
    private static Method mainIn(Class<?> c, boolean withArgs) {
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            try {
                Method m = withArgs ? k.getDeclaredMethod("main", String[].class) : k.getDeclaredMethod("main");
                if (!Modifier.isPrivate(m.getModifiers())) {
                    return m;
                }
            } catch (NoSuchMethodException notHere) {
                // look further up
            }
        }
        return null;
    }

    /** The class launched, and the {@code main} {@link #findMain} chose in it. */
    private record Launch(Class<?> type, Method main) {
        /** Calls {@code main}: on a new instance of {@code type} when it is an instance method. */
        void call(String[] args) throws ReflectiveOperationException {
            Object target = null;
            if (!Modifier.isStatic(main.getModifiers())) {
                java.lang.reflect.Constructor<?> k = type.getDeclaredConstructor();
                k.setAccessible(true);
                target = k.newInstance();
            }
            if (main.getParameterCount() == 1) {
                main.invoke(target, (Object) args);
            } else {
                main.invoke(target);
            }
        }
    }
}
