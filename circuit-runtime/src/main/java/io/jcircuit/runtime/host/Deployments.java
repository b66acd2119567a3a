package io.jcircuit.runtime.host;

import io.jcircuit.SpawnOptions;
import io.jcircuit.Stored;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.SignedBytes;
import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.runtime.ClusterSeal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The deployment records of a circuit, {@code /deployments/NAME/VERSION} in the durable store, read and
 * written as a runtime with the cluster key {@code key} (or none) does. A record decides which jar a
 * worker runs, so with a key each is written signed with it, bound to its path (the seal of the
 * durable store's objects, {@link ClusterSeal}), and a record that is not (written by someone without
 * the key, who may reach ZooKeeper, or by a build before records were signed) is refused with a
 * {@link SecurityException} that says so. Without a key, records are written unsigned and read
 * unchecked, signed or not.
 *
 * <p>A refused record keeps its version number: it is listed among {@link Listed#refused()}, a spawn of
 * it (or of its name, when it is the highest version) fails, and a new deploy takes the next number.
 * So does a removed one ({@link #remove}): its record stays, marked removed, so that no later jar takes
 * its number; a spawn of it fails, and its name's latest version is the highest one not removed.
 *
 * <p>Every method reads or writes ZooKeeper and blocks while it does. Thread-safe.
 */
public final class Deployments {

    private final Namespace ns;
    private final SignedBytes records;

    /** The records in {@code ns}, signed and checked with {@code key}; null: no key, nothing signed or checked. */
    public Deployments(Namespace ns, ClusterKey key) {
        this.ns = Objects.requireNonNull(ns, "ns");
        this.records = new SignedBytes(ns, key == null ? null : new ClusterSeal(key));
    }

    /**
     * A record at a deployment's path that is not taken as one.
     *
     * @param path   where it is
     * @param label  {@code NAME:VERSION}, from its path
     * @param reason why: a {@link SecurityException} for one not written with this cluster's key, an
     *               {@link IllegalArgumentException} for one that is not a deployment
     */
    public record Refused(String path, String label, RuntimeException reason) {

        int version() {
            return Integer.parseInt(path.substring(path.lastIndexOf('/') + 1));
        }
    }

    /**
     * Records as read: the deployments taken, the records refused and the deployments removed, each by
     * name, then version.
     */
    public record Listed(List<Deployment> deployments, List<Refused> refused, List<Deployment> removed) {

        public Listed {
            deployments = List.copyOf(deployments);
            refused = List.copyOf(refused);
            removed = List.copyOf(removed);
        }

        /** True when there is no record at all, taken, refused or removed. */
        public boolean isEmpty() {
            return deployments.isEmpty() && refused.isEmpty() && removed.isEmpty();
        }

        /** The highest version number of any record, taken, refused or removed; 0 when there are none. */
        public int highestVersion() {
            return Stream.of(deployments.stream().map(Deployment::version), refused.stream().map(Refused::version),
                    removed.stream().map(Deployment::version)).flatMap(v -> v)
                .mapToInt(Integer::intValue).max().orElse(0);
        }

        /** The highest version that a spawn of the name alone takes: of a record taken or refused, not removed; 0 when none. */
        int latestVersion() {
            return Stream.concat(deployments.stream().map(Deployment::version), refused.stream().map(Refused::version))
                .mapToInt(Integer::intValue).max().orElse(0);
        }

        /** {@code NAME:VERSION} of every record, taken or refused (not removed), by name, then version. */
        public List<String> labels() {
            return Stream.concat(deployments.stream().map(d -> new Label(d.name(), d.version())),
                    refused.stream().map(r -> new Label(r.label().substring(0, r.label().indexOf(':')), r.version())))
                .sorted(Label.ORDER).map(l -> l.name() + ":" + l.version()).toList();
        }

        private record Label(String name, int version) {
            static final Comparator<Label> ORDER = Comparator.comparing(Label::name).thenComparingInt(Label::version);
        }
    }

    /** True when records are signed and checked with the cluster key. */
    public boolean checked() {
        return records.checked();
    }

    /** The records of {@code name}, oldest first. */
    public Listed versions(String name) {
        return read(ns.listDurable(Deployment.ROOT + "/" + Deployment.checkName(name), false).entries());
    }

    /** The records of every name. */
    public Listed all() {
        return read(ns.listDurable(Deployment.ROOT, true).entries().stream()
            .filter(s -> s.path().split("/").length == 4).toList());
    }

    /**
     * The deployment {@code selector} names: {@code NAME} for its latest version, {@code NAME:VERSION}
     * for that one.
     *
     * @throws IllegalArgumentException for a malformed selector, an unknown name or an unknown version
     * @throws SecurityException        when the record selected was not written with this cluster's key
     */
    public Deployment resolve(String selector) {
        if (selector == null || !selector.matches(SpawnOptions.DEPLOYMENT_PATTERN)) {
            throw new IllegalArgumentException("bad deployment '" + selector + "': give NAME or NAME:VERSION");
        }
        int colon = selector.indexOf(':');
        String name = colon < 0 ? selector : selector.substring(0, colon);
        Listed all = versions(name);
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no deployment named '" + name + "'; deploy a jar with 'circuit deploy APP.jar --name "
                + name + "', and see 'circuit deploy --list'");
        }
        // the latest is the highest record, refused or not: a record that is not trusted is never skipped for an older one
        int version = colon < 0 ? all.latestVersion() : Integer.parseInt(selector.substring(colon + 1));
        if (version == 0) {
            throw new IllegalArgumentException("every version of deployment '" + name + "' was removed ("
                + String.join(", ", all.removed().stream().map(Deployment::label).toList()) + "); deploy a jar again with"
                + " 'circuit deploy APP.jar --name " + name + "'");
        }
        for (Deployment r : all.removed()) {
            if (r.version() == version) {
                throw new IllegalArgumentException("deployment " + r.label() + " was removed at " + r.removed() + "; "
                    + (all.labels().isEmpty() ? "no version of it is left" : "it has " + String.join(", ", all.labels())));
            }
        }
        for (Refused r : all.refused()) {
            if (r.version() == version) {
                throw r.reason();
            }
        }
        return all.deployments().stream().filter(d -> d.version() == version).findFirst().orElseThrow(() ->
            new IllegalArgumentException("deployment '" + name + "' has no version " + version + "; it has " + all.labels()));
    }

    /**
     * Stores {@code d} at its path, signed when there is a key, unless something is there already
     * (atomically: of two deploys racing for one version, one wins). Returns false when something was.
     */
    public boolean create(Deployment d) {
        return records.create(d.path(), d.encode());
    }

    /**
     * Removes deployment {@code selector} ({@code NAME:VERSION}): its record stays, marked removed (signed
     * when there is a key), so that its number is not taken again; no spawn or swap can name it from then
     * on, and hosts let its jar go at their next pass over their jar cache, unless another deployment
     * that is not removed has the same jar. Workers that run it run on. Returns the record as it is now,
     * and whether this call removed it (false: it was removed already).
     *
     * @throws IllegalArgumentException for a selector without a version, or a version that does not exist
     * @throws SecurityException        when the record is not written with this cluster's key
     */
    public Removal remove(String selector) {
        if (selector == null || !selector.matches(SpawnOptions.DEPLOYMENT_PATTERN) || selector.indexOf(':') < 0) {
            throw new IllegalArgumentException("bad deployment '" + selector + "': give NAME:VERSION (one version is removed at a time)");
        }
        int colon = selector.indexOf(':');
        String name = selector.substring(0, colon);
        int version = Integer.parseInt(selector.substring(colon + 1));
        Listed all = versions(name);
        for (Deployment r : all.removed()) {
            if (r.version() == version) {
                return new Removal(r, false);
            }
        }
        if (all.isEmpty()) {
            // resolve's hint is for a swap or spawn: one asked to remove needs none of deploying
            throw new IllegalArgumentException("no deployment named '" + name + "' to remove; see 'circuit deploy --list'");
        }
        Deployment d = resolve(selector).removedAt(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        records.put(d.path(), d.encode());
        return new Removal(d, true);
    }

    /** What {@link #remove} did: the record as it is now, and whether that call removed it. */
    public record Removal(Deployment deployment, boolean removedNow) {
    }

    private Listed read(List<Stored> values) {
        List<Deployment> taken = new ArrayList<>();
        List<Refused> refused = new ArrayList<>();
        for (Stored s : values) {
            if (s.object() || !s.name().matches("[1-9][0-9]*")) {
                continue; // not a record: nothing deploy writes
            }
            String label = s.path().split("/")[2] + ":" + s.name();
            try {
                records.get(s.path()).ifPresent(b -> taken.add(Deployment.decode(s.path(), b)));
            } catch (SecurityException e) {
                refused.add(new Refused(s.path(), label, notWrittenWithTheKey(label, e)));
            } catch (IllegalArgumentException e) {
                refused.add(new Refused(s.path(), label, e));
            }
        }
        taken.sort(Comparator.comparing(Deployment::name).thenComparingInt(Deployment::version));
        List<Deployment> removed = taken.stream().filter(Deployment::isRemoved).toList();
        taken.removeIf(Deployment::isRemoved);
        refused.sort(Comparator.comparing((Refused r) -> r.label().substring(0, r.label().indexOf(':')))
            .thenComparingInt(Refused::version));
        return new Listed(taken, refused, removed);
    }

    private static SecurityException notWrittenWithTheKey(String label, SecurityException why) {
        return new SecurityException("deployment " + label + " was not written with this cluster's key, so it is not"
            + " trusted: " + why.getMessage() + ". If it is yours, deploy its jar again with the cluster key ('circuit"
            + " deploy APP.jar' with --key or $CIRCUIT_KEY); a record written before JCircuit signed deployments needs that"
            + " too", why);
    }
}
