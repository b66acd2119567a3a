package io.jcircuit.runtime.host;

import io.jcircuit.Durable;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Stored;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

/**
 * One version of an application jar recorded by {@code circuit deploy}, kept in the durable store at
 * {@code /deployments/<name>/<version>} as UTF-8 {@code key=value} lines (readable with
 * {@code circuit get}). The jar itself sits in every host's jar cache under its SHA-256; the store
 * holds only what names it. Versions of a name count 1, 2, 3, …, one per distinct jar.
 *
 * @param name                  what the deployment is called, e.g. {@code app}
 * @param version               1 for the first jar deployed under {@code name}, then one more per new jar
 * @param sha256                the jar's SHA-256, lower-case hex
 * @param size                  the jar's size in bytes
 * @param fileName              the jar's file name when deployed
 * @param deployed              when it was deployed
 * @param implementationVersion the {@code Implementation-Version} of the jar's manifest, or "" when none
 */
public record Deployment(String name, int version, String sha256, long size, String fileName, Instant deployed,
                         String implementationVersion) {

    /** The durable directory that holds one directory per deployment name. */
    public static final String ROOT = "/deployments";
    /** The metadata keys a worker files its code version under. */
    public static final String CODE_KEY = "code";
    public static final String CODE_HASH_KEY = "codeHash";
    /** The {@value #CODE_KEY} of a worker that runs its spawner's classpath rather than a deployment. */
    public static final String SPAWNER_CLASSPATH = "spawner classpath";
    /**
     * The system property that names the JCircuit runtime's own classpath, without any application
     * jar; a spawn on a deployment ships it behind the deployment's jar. {@code circuit run} sets it.
     */
    public static final String RUNTIME_CLASSPATH_PROPERTY = "circuit.runtime.classpath";

    public Deployment {
        checkName(name);
        if (version < 1) {
            throw new IllegalArgumentException("version=" + version + " of deployment " + name + " must be 1 or more");
        }
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("sha256='" + sha256 + "' of deployment " + name + " is not 64 hex digits");
        }
        Objects.requireNonNull(fileName, "fileName");
        Objects.requireNonNull(deployed, "deployed");
        implementationVersion = implementationVersion == null ? "" : implementationVersion;
    }

    /** Refuses a name that is not letters, digits, '.', '_' and '-' (starting with a letter or digit). */
    public static String checkName(String name) {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("bad deployment name '" + name
                + "': use letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        return name;
    }

    /** Where this deployment is stored. */
    public String path() {
        return ROOT + "/" + name + "/" + version;
    }

    /** {@code NAME:VERSION}, as a worker's {@value #CODE_KEY} metadata and {@code ls -l} show it. */
    public String label() {
        return name + ":" + version;
    }

    /** The first 12 hex digits of the hash, as a worker's {@value #CODE_HASH_KEY} metadata shows it. */
    public String shortHash() {
        return sha256.substring(0, 12);
    }

    /** The jar, as a spawn names it on a worker's classpath. */
    public JarRef jar() {
        return new JarRef(sha256, size, fileName);
    }

    /** The stored form. */
    public byte[] encode() {
        Properties p = new Properties();
        p.setProperty("name", name);
        p.setProperty("version", Integer.toString(version));
        p.setProperty("sha256", sha256);
        p.setProperty("size", Long.toString(size));
        p.setProperty("file", fileName);
        p.setProperty("deployed", deployed.toString());
        p.setProperty("implementationVersion", implementationVersion);
        StringWriter w = new StringWriter();
        try {
            p.store(w, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // drop the date comment Properties.store writes, so equal deployments store equal bytes
        String text = w.toString().lines().filter(l -> !l.startsWith("#")).reduce("", (a, l) -> a + l + "\n");
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads a stored deployment.
     *
     * @throws IllegalArgumentException when {@code bytes} are not one, naming {@code path}
     */
    public static Deployment decode(String path, byte[] bytes) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
            return new Deployment(p.getProperty("name"), Integer.parseInt(p.getProperty("version", "0")),
                p.getProperty("sha256", ""), Long.parseLong(p.getProperty("size", "-1")), p.getProperty("file", "app.jar"),
                Instant.parse(p.getProperty("deployed", "1970-01-01T00:00:00Z")), p.getProperty("implementationVersion"));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the value at " + path + " is not a deployment: " + e.getMessage(), e);
        }
    }

    /** The versions of {@code name} in {@code store}, oldest first; empty when there are none. */
    public static List<Deployment> versions(Durable store, String name) {
        checkName(name);
        List<Deployment> out = new ArrayList<>();
        for (Stored s : store.list(ROOT + "/" + name).entries()) {
            if (s.name().matches("[1-9][0-9]*") && !s.object()) {
                store.getBytes(s.path()).ifPresent(b -> out.add(decode(s.path(), b)));
            }
        }
        out.sort(Comparator.comparingInt(Deployment::version));
        return out;
    }

    /**
     * The deployment {@code selector} names: {@code NAME} for its latest version, {@code NAME:VERSION}
     * for that one.
     *
     * @throws IllegalArgumentException for a malformed selector, an unknown name or an unknown version
     */
    public static Deployment resolve(Durable store, String selector) {
        if (selector == null || !selector.matches(SpawnOptions.DEPLOYMENT_PATTERN)) {
            throw new IllegalArgumentException("bad deployment '" + selector + "': give NAME or NAME:VERSION");
        }
        int colon = selector.indexOf(':');
        String name = colon < 0 ? selector : selector.substring(0, colon);
        List<Deployment> all = versions(store, name);
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no deployment named '" + name + "'; deploy a jar with 'circuit deploy APP.jar --name "
                + name + "', and see 'circuit deploy --list'");
        }
        if (colon < 0) {
            return all.getLast();
        }
        int version = Integer.parseInt(selector.substring(colon + 1));
        return all.stream().filter(d -> d.version() == version).findFirst().orElseThrow(() -> new IllegalArgumentException(
            "deployment '" + name + "' has no version " + version + "; it has " + all.stream().map(Deployment::label).toList()));
    }
}
