package io.jcircuit.cli;

import io.jcircuit.anchor.Namespace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code circuit hosts}: the host daemons of the circuit, from their entries under {@code /host}. */
@Command(name = "hosts", mixinStandardHelpOptions = true,
    description = {"List the host daemons of the circuit: name, address, workers, load average and free memory.",
        "Hosts report workers, load and memory when they start, whenever a worker starts or ends, and every 10 s;",
        "a host whose last report is older than 30 s is named on stderr (it may be frozen or cut off from ZooKeeper).",
        "Start a host with 'circuit start'; stop one with 'circuit stop NAME'."})
final class HostsCommand implements Callable<Integer> {

    /**
     * A report older than this is called out: three of a running host's 10 s reports missed, which
     * leaves room for clocks a few seconds apart.
     */
    static final Duration STALE = Duration.ofSeconds(30);

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Mixin
    NamespaceOptions where;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<Hosts.Host> hosts;
        String connect;
        try (Namespace ns = where.connect()) {
            hosts = Hosts.list(ns);
            connect = ns.config().connectString();
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(Map.of("hosts", hosts.stream().map(HostsCommand::toJson).toList())));
        } else if (hosts.isEmpty()) {
            spec.commandLine().getErr().println("no hosts in the circuit at " + connect + "; start one with 'circuit start'");
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "ADDRESS", "WORKERS", "LOAD", "FREE MEMORY"});
            for (Hosts.Host h : hosts) {
                rows.add(new String[] {h.name(), h.entry().address().toString(), orDash(h.workers()),
                    h.load() == null ? "-" : String.format(Locale.ROOT, "%.2f", h.load()),
                    h.freeMemoryMb() == null ? "-" : h.freeMemoryMb() + " MiB"});
            }
            Columns.print(out, rows);
        }
        out.flush();
        Instant now = Instant.now();
        for (Hosts.Host h : hosts) {
            Instant at = h.reported();
            if (at != null && Duration.between(at, now).compareTo(STALE) > 0) {
                spec.commandLine().getErr().println("host " + h.name() + " last reported its figures "
                    + Duration.between(at, now).toSeconds() + " s ago, at " + at
                    + " (by its clock); a running host reports every 10 s, so it may be frozen or cut off from ZooKeeper");
            }
        }
        return 0;
    }

    private static Map<String, Object> toJson(Hosts.Host h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", h.name());
        m.put("worker", h.entry().worker().toString());
        m.put("address", h.entry().address().toString());
        m.put("machine", h.entry().host());
        m.put("pid", h.entry().pid());
        m.put("started", h.entry().started().toString());
        m.put("workers", h.workers());
        m.put("load", h.load());
        m.put("freeMemoryMb", h.freeMemoryMb());
        m.put("reported", h.reported() == null ? null : h.reported().toString());
        return m;
    }

    private static String orDash(Object v) {
        return v == null ? "-" : v.toString();
    }
}
