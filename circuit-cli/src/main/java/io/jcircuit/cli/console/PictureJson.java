package io.jcircuit.cli.console;

import io.jcircuit.runtime.ops.OpsInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pictures and ops answers as the maps and lists that the CLI's JSON writer takes: the shapes of
 * {@code /api/circuit} and {@code /api/worker/ID/info}. Field names are the records' component names.
 */
public final class PictureJson {

    private PictureJson() {
    }

    static Map<String, Object> of(CircuitPicture p, long intervalMs) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("atMillis", p.atMillis());
        o.put("tookMillis", p.tookMillis());
        o.put("intervalMs", intervalMs);
        List<Object> hosts = new ArrayList<>();
        for (CircuitPicture.Host h : p.hosts()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", h.name());
            m.put("address", h.address());
            m.put("worker", h.worker());
            m.put("workers", h.workers());
            m.put("warm", h.warm());
            hosts.add(m);
        }
        o.put("hosts", hosts);
        o.put("workers", p.workers().stream().map(PictureJson::worker).toList());
        o.put("anchors", p.anchors());
        o.put("flows", p.flows().stream().map(PictureJson::flow).toList());
        return o;
    }

    private static Map<String, Object> worker(CircuitPicture.Worker w) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", w.id());
        m.put("address", w.address());
        m.put("host", w.host());
        m.put("machine", w.machine());
        m.put("pid", w.pid());
        m.put("role", w.role());
        m.put("anchors", w.anchors());
        m.put("reachable", w.reachable());
        m.put("error", w.error());
        if (w.reachable()) {
            m.put("version", w.version());
            m.put("uptimeMillis", w.uptimeMillis());
            m.put("services", w.services());
            m.put("heapUsed", w.heapUsed());
            m.put("heapMax", w.heapMax());
            m.put("threads", w.threads());
            m.put("cpuLoad", finite(w.cpuLoad()));
        }
        return m;
    }

    private static Map<String, Object> flow(CircuitPicture.Flow f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("from", f.from());
        m.put("to", f.to());
        m.put("callsPerSec", finite(f.callsPerSec()));
        m.put("bytesPerSec", finite(f.bytesPerSec()));
        m.put("p99Micros", f.p99Micros());
        m.put("calls", f.calls());
        m.put("bytes", f.bytes());
        return m;
    }

    /**
     * What a worker says about itself, as {@code /api/worker/ID/info} and {@code circuit peek --json} print it.
     * {@code "host"} is {@code daemon}, the host daemon that runs it, as in the picture and {@code top}, or
     * the machine's name for a runtime no host started (null {@code daemon}); {@code "machine"} is always
     * the machine's.
     */
    public static Map<String, Object> info(OpsInfo i, String daemon) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("worker", i.worker());
        m.put("address", i.address());
        m.put("host", daemon == null ? i.host() : daemon);
        m.put("machine", i.host());
        m.put("pid", i.pid());
        m.put("version", i.version());
        m.put("classpathHash", i.classpathHash());
        m.put("startedMillis", i.startedMillis());
        m.put("uptimeMillis", i.uptimeMillis());
        m.put("anchors", i.anchors());
        m.put("services", i.services());
        m.put("jvm", i.jvm());
        m.put("processors", i.processors());
        m.put("heapMaxBytes", i.heapMaxBytes());
        m.put("profiler", i.profiler());
        m.put("peers", i.peers());
        java.util.List<Object> types = new java.util.ArrayList<>();
        for (OpsInfo.ServiceType t : i.serviceTypes()) {
            types.add(Map.of("name", t.name(), "iface", t.iface(), "impl", t.impl()));
        }
        m.put("serviceTypes", types);
        return m;
    }

    /** JSON has no NaN or infinity: those become null. */
    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
