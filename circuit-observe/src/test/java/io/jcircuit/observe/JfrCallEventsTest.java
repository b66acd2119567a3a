package io.jcircuit.observe;

import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.runtime.CircuitRuntime;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class JfrCallEventsTest {

    private static final String GREET = "Greeter.greet(String)";
    private static final String FAIL = "Greeter.fail(String)";
    private static final String SLOW = "Greeter.slow(long)";

    @RegisterExtension
    final Runtimes runtimes = new Runtimes();

    @TempDir
    Path dir;

    @Test
    void shouldRecordOneEventPerCallOnEachSideWithPeerMethodOutcomeBytesAndDuration() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        JfrCallEvents jfr = new JfrCallEvents();
        a.intercept(jfr);
        b.intercept(jfr);
        CountingInterceptor served = new CountingInterceptor();
        b.intercept(served);
        b.listen("greeter", Greeter.class, new GreeterImpl(null));

        List<RecordedEvent> events;
        try (Recording recording = new Recording()) {
            recording.enable(JfrCallEvents.EVENT_NAME).withoutThreshold();
            recording.start();
            Greeter greeter = a.dial(b.address(), "greeter", Greeter.class);
            for (int i = 0; i < 3; i++) {
                assertThat(greeter.greet("ann")).isEqualTo("hello ann");
            }
            assertThatThrownBy(() -> greeter.fail("boom")).isInstanceOf(IllegalStateException.class);
            // the callee commits after it has sent the answer: wait for its last one before stopping
            await().atMost(Duration.ofSeconds(10)).until(() -> served.count(Direction.IN, FAIL) == 1);
            recording.stop();
            Path file = dir.resolve("calls.jfr");
            recording.dump(file);
            events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals(JfrCallEvents.EVENT_NAME))
                .toList();
        }

        List<RecordedEvent> out = of(events, "OUT", b.id().toString());
        List<RecordedEvent> in = of(events, "IN", a.id().toString());
        assertThat(out).extracting(e -> e.getString("method"))
            .containsExactlyInAnyOrder("dial greeter", GREET, GREET, GREET, FAIL);
        assertThat(in).extracting(e -> e.getString("method"))
            .containsExactlyInAnyOrder("dial greeter", GREET, GREET, GREET, FAIL);
        assertThat(events).hasSize(10);
        for (RecordedEvent e : events) {
            assertThat(e.getString("outcome")).as("outcome of %s", e)
                .isEqualTo(e.getString("method").equals(FAIL) ? "THREW" : "OK");
            assertThat(e.getLong("bytesOut")).as("bytesOut of %s", e).isPositive();
            assertThat(e.getLong("bytesIn")).as("bytesIn of %s", e).isPositive();
            assertThat(e.getLong("callDuration")).as("callDuration of %s", e).isPositive();
            assertThat(e.getEventType().getLabel()).isEqualTo("Remote Call");
            assertThat(e.getEventType().getCategoryNames()).containsExactly("JCircuit");
        }
        // begun in outgoing/incoming and ended in completed: JFR's own duration spans the call
        for (RecordedEvent e : out) {
            assertThat(e.getDuration()).as("duration of %s", e).isPositive();
        }
        for (RecordedEvent e : in) {
            if (!e.getString("method").startsWith("dial ")) {
                assertThat(e.getDuration()).as("duration of %s", e).isPositive();
            }
        }
        // what one side sent the other received: both count the payload, without the frame header
        RecordedEvent outFail = only(out, FAIL);
        RecordedEvent inFail = only(in, FAIL);
        assertThat(outFail.getLong("bytesOut")).isEqualTo(inFail.getLong("bytesIn"));
        assertThat(inFail.getLong("bytesOut")).isEqualTo(outFail.getLong("bytesIn"));
        // the caller's event starts before and ends after the callee's
        assertThat(outFail.getStartTime()).isBefore(inFail.getStartTime());
        assertThat(outFail.getEndTime()).isAfter(inFail.getStartTime());
    }

    @Test
    void shouldRecordNothingWhenARecordingTurnsTheEventOff() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        JfrCallEvents jfr = new JfrCallEvents();
        a.intercept(jfr);
        b.intercept(jfr);
        CountingInterceptor served = new CountingInterceptor();
        b.intercept(served);
        b.listen("greeter", Greeter.class, new GreeterImpl(null));

        try (Recording recording = new Recording()) {
            recording.disable(JfrCallEvents.EVENT_NAME);
            recording.start();
            Greeter greeter = a.dial(b.address(), "greeter", Greeter.class);
            assertThat(greeter.greet("bo")).isEqualTo("hello bo");
            await().atMost(Duration.ofSeconds(10)).until(() -> served.count(Direction.IN, GREET) == 1);
            recording.stop();
            Path file = dir.resolve("off.jfr");
            recording.dump(file);
            assertThat(RecordingFile.readAllEvents(file))
                .noneMatch(e -> e.getEventType().getName().equals(JfrCallEvents.EVENT_NAME));
        }
    }

    @Test
    void shouldRecordCallsSlowerThanTheDefaultThresholdInARecordingWithDefaultSettings() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        JfrCallEvents jfr = new JfrCallEvents();
        a.intercept(jfr);
        b.intercept(jfr);
        CountingInterceptor served = new CountingInterceptor();
        b.intercept(served);
        b.listen("greeter", Greeter.class, new GreeterImpl(null));
        Greeter greeter = a.dial(b.address(), "greeter", Greeter.class);

        try (Recording recording = new Recording()) {
            recording.start();
            greeter.slow(60);
            await().atMost(Duration.ofSeconds(10)).until(() -> served.count(Direction.IN, SLOW) == 1);
            recording.stop();
            Path file = dir.resolve("default.jfr");
            recording.dump(file);
            List<RecordedEvent> slow = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals(JfrCallEvents.EVENT_NAME))
                .filter(e -> e.getString("method").equals(SLOW))
                .toList();
            assertThat(slow).extracting(e -> e.getString("direction")).containsExactlyInAnyOrder("OUT", "IN");
            assertThat(slow).allSatisfy(e -> assertThat(e.getDuration()).isGreaterThanOrEqualTo(Duration.ofMillis(60)));
        }
    }

    @Test
    void shouldMatchNestedCallsOnOneThreadAndDropWhatWasNeverCompleted() {
        ThreadCalls<String> calls = new ThreadCalls<>();
        io.jcircuit.WorkerId peer = io.jcircuit.WorkerId.parse("R0000000000000001");
        calls.push(new io.jcircuit.CallInterceptor.CallInfo(Direction.OUT, peer, "outer"), "outer");
        calls.push(new io.jcircuit.CallInterceptor.CallInfo(Direction.OUT, peer, "stale"), "stale");
        calls.push(new io.jcircuit.CallInterceptor.CallInfo(Direction.OUT, peer, "inner"), "inner");

        assertThat(calls.take(Direction.OUT, peer, "inner")).isEqualTo("inner");
        assertThat(calls.take(Direction.IN, peer, "outer")).isNull();
        assertThat(calls.take(Direction.OUT, peer, "outer")).isEqualTo("outer");
        assertThat(calls.depth()).isZero();
        for (int i = 0; i < ThreadCalls.MAX_DEPTH + 10; i++) {
            calls.push(new io.jcircuit.CallInterceptor.CallInfo(Direction.OUT, peer, "m" + i), "v" + i);
        }
        assertThat(calls.depth()).isEqualTo(ThreadCalls.MAX_DEPTH);
        assertThat(calls.take(Direction.OUT, peer, "m0")).isNull();
        assertThat(calls.take(Direction.OUT, peer, "m10")).isEqualTo("v10");
        assertThat(calls.depth()).isZero();
    }

    private static List<RecordedEvent> of(List<RecordedEvent> events, String direction, String peer) {
        return events.stream()
            .filter(e -> e.getString("direction").equals(direction) && e.getString("peer").equals(peer))
            .toList();
    }

    private static RecordedEvent only(List<RecordedEvent> events, String method) {
        List<RecordedEvent> found = events.stream().filter(e -> e.getString("method").equals(method)).toList();
        assertThat(found).hasSize(1);
        return found.getFirst();
    }
}
