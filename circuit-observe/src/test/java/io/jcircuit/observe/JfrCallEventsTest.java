package io.jcircuit.observe;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor.CallInfo;
import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.runtime.CircuitRuntime;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class JfrCallEventsTest {

    private static final String GREET = "Greeter.greet(String)";
    private static final String FAIL = "Greeter.fail(String)";
    private static final String SLOW = "Greeter.slow(long)";
    private static final String LATER = "AsyncGreeter.greetLater(String,long)";

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
            events = callEvents(recording, null);
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
            assertThat(callEvents(recording, null)).isEmpty();
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
            List<RecordedEvent> slow = callEvents(recording, SLOW);
            assertThat(slow).extracting(e -> e.getString("direction")).containsExactlyInAnyOrder("OUT", "IN");
            assertThat(slow).allSatisfy(e -> assertThat(e.getDuration()).isGreaterThanOrEqualTo(Duration.ofMillis(60)));
        }
    }

    /** Stops {@code recording} and reads its call events, of {@code method} only unless it is null. */
    private List<RecordedEvent> callEvents(Recording recording, String method) throws java.io.IOException {
        recording.stop();
        Path file = Files.createTempFile(dir, "calls-", ".jfr");
        recording.dump(file);
        return RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals(JfrCallEvents.EVENT_NAME))
            .filter(e -> method == null || e.getString("method").equals(method))
            .toList();
    }

    @Test
    void shouldRecordASlowAsyncCallOnBothSidesWithItsDurationUnderTheDefaultThreshold() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        JfrCallEvents jfr = new JfrCallEvents();
        a.intercept(jfr);
        b.intercept(jfr);
        CountingInterceptor served = new CountingInterceptor();
        b.intercept(served);
        b.listen("async", AsyncGreeter.class, new AsyncGreeterImpl());
        AsyncGreeter greeter = a.dial(b.address(), "async", AsyncGreeter.class);

        try (Recording recording = new Recording()) {
            recording.start();
            // completed runs on the completer thread on the caller, and where the future completed on the callee
            assertThat(greeter.greetLater("ann", 60).join()).isEqualTo("hello ann");
            await().atMost(Duration.ofSeconds(10)).until(() -> served.count(Direction.IN, LATER) == 1);
            List<RecordedEvent> later = callEvents(recording, LATER);
            assertThat(later).extracting(e -> e.getString("direction")).containsExactlyInAnyOrder("OUT", "IN");
            assertThat(later).allSatisfy(e -> assertThat(e.getDuration()).isGreaterThanOrEqualTo(Duration.ofMillis(60)));
        }
    }

    @Test
    void shouldPairTheHooksOfACallByItsIdOnAnyThreadAndDropTheOlderHalfWhenFull() throws Exception {
        CallsInFlight<String> calls = new CallsInFlight<>();
        io.jcircuit.WorkerId peer = io.jcircuit.WorkerId.parse("R0000000000000001");
        calls.put(new CallInfo(Direction.OUT, peer, GREET, 1), "first");
        calls.put(new CallInfo(Direction.OUT, peer, GREET, 2), "second");
        calls.put(new CallInfo(Direction.IN, peer, GREET, 1), "served");

        // another thread, and in another order: by direction, peer and id, whatever the method is called by then
        CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> calls.take(ended(Direction.OUT, peer, 2)),
            r -> Thread.ofVirtual().start(r));
        assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo("second");
        assertThat(calls.take(ended(Direction.OUT, peer, 2))).isNull();
        assertThat(calls.take(ended(Direction.IN, peer, 1))).isEqualTo("served");
        assertThat(calls.take(ended(Direction.OUT, peer, 1))).isEqualTo("first");
        assertThat(calls.size()).isZero();

        for (int i = 0; i < CallsInFlight.MAX_CALLS; i++) {
            calls.put(new CallInfo(Direction.OUT, peer, GREET, i), "v" + i); // never completed here
        }
        calls.put(new CallInfo(Direction.OUT, peer, GREET, -1), "newest");
        assertThat(calls.size()).isLessThanOrEqualTo(CallsInFlight.MAX_CALLS / 2 + 1);
        assertThat(calls.take(ended(Direction.OUT, peer, -1))).isEqualTo("newest");
        assertThat(calls.take(ended(Direction.OUT, peer, CallsInFlight.MAX_CALLS - 1))).isEqualTo("v" + (CallsInFlight.MAX_CALLS - 1));
    }

    private static CallEvent ended(Direction direction, io.jcircuit.WorkerId peer, long callId) {
        return new CallEvent(direction, peer, "renamed", 1, 1, 1, CallEvent.Outcome.OK, callId);
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
