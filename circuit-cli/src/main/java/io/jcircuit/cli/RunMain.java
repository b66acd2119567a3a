package io.jcircuit.cli;

import io.jcircuit.CircuitScope;
import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;

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
 * {@link io.jcircuit.Circuit#current()} bound to its runtime, and stops everything when main returns.
 *
 * <p>Arguments: {@code (--local STATE_DIR | --zookeeper CONNECT) APP.jar MAIN|- [ARGS...]}; {@code -}
 * takes the jar's {@code Main-Class}.
 */
public final class RunMain {

    /** The system property that names the cluster key file of the circuit joined. */
    static final String KEY_PROPERTY = "circuit.key";

    private RunMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 4 || !(args[0].equals("--local") || args[0].equals("--zookeeper"))) {
            System.err.println("usage: RunMain (--local STATE_DIR | --zookeeper CONNECT) APP.jar MAIN|- [ARGS...]");
            System.exit(2);
        }
        boolean local = args[0].equals("--local");
        Path jar = Path.of(args[2]);
        String mainClass = args[3].equals("-") ? mainClassOf(jar) : args[3];
        String[] appArgs = Arrays.copyOfRange(args, 4, args.length);
        Method main = findMain(mainClass, jar);

        HostDaemon host = null;
        String zookeeper = args[1];
        if (local) {
            host = HostDaemon.start(new HostDaemon.Config("local", Path.of(args[1]), null, null, 0));
            zookeeper = host.zookeeper();
        }
        int code = 0;
        String key = System.getProperty(KEY_PROPERTY);
        RuntimeConfig config = RuntimeConfig.builder().zookeeper(zookeeper)
            .clusterKeyFile(key == null ? null : Path.of(key)).build();
        try (CircuitRuntime rt = CircuitRuntime.start(config)) {
            try {
                ScopedValue.where(CircuitScope.CURRENT, rt).call(() -> main.invoke(null, (Object) appArgs));
            } catch (InvocationTargetException e) {
                System.err.println("circuit run: " + mainClass + ".main failed:");
                e.getCause().printStackTrace();
                code = 1;
            }
        } finally {
            if (host != null) {
                host.close(true); // the local circuit ends with the program, daemonized workers too
            }
        }
        System.exit(code);
    }

    private static String mainClassOf(Path jar) throws Exception {
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

    private static Method findMain(String mainClass, Path jar) throws Exception {
        if (!Files.exists(jar)) {
            throw new IllegalArgumentException("no such jar: " + jar);
        }
        Class<?> c;
        try {
            c = Class.forName(mainClass);
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("no class " + mainClass + " in " + jar, e);
        }
        Method m = c.getMethod("main", String[].class);
        if (!Modifier.isStatic(m.getModifiers())) {
            throw new IllegalArgumentException(mainClass + ".main(String[]) is not static");
        }
        m.setAccessible(true);
        return m;
    }
}
