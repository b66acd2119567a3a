package io.jcircuit.bench;

import io.jcircuit.Address;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the server child serves, as it tells the orchestrator in one line after
 * {@link BenchServer#PORTS_PREFIX}: {@code tcp=41234 rmi=<base64 stub> circuit=127.0.0.1:41235}.
 *
 * @param tcpPort the raw TCP echo server's port on loopback
 * @param rmiStub the RMI echo stub, serialized and Base64-encoded (see {@link RmiServerSide#decode})
 * @param circuit the JCircuit runtime's address
 */
record Endpoints(int tcpPort, String rmiStub, Address circuit, Address bareCircuit) {

    String toLine() {
        return "tcp=" + tcpPort + " rmi=" + rmiStub + " circuit=" + circuit + " bare=" + bareCircuit;
    }

    /**
     * Reads {@link #toLine()}'s form.
     *
     * @throws IllegalArgumentException quoting the line when a part is missing or malformed
     */
    static Endpoints parse(String line) {
        Map<String, String> parts = new HashMap<>();
        for (String part : line.strip().split(" +")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                parts.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        if (!parts.keySet().containsAll(List.of("tcp", "rmi", "circuit", "bare"))) {
            throw new IllegalArgumentException("ports line needs tcp=, rmi=, circuit= and bare=: '" + line + "'");
        }
        try {
            return new Endpoints(Integer.parseInt(parts.get("tcp")), parts.get("rmi"), Address.parse(parts.get("circuit")),
                Address.parse(parts.get("bare")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad tcp port in ports line '" + line + "'", e);
        }
    }
}
