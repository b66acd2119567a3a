package io.jcircuit.bench;

import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The hand-off measurement's five ways of running a client's loop each complete their round trips against a
 * real echo server on loopback, and end their threads when closed. It reads private fields of Netty's by
 * reflection, so a Netty upgrade that renames them fails here, not in the middle of a measurement.
 */
class LoopHandOffTest {

    @Test
    void everyModeCompletesItsRoundTripsAndEndsItsDriver() throws Exception {
        assumeThat(Epoll.isAvailable()).as("Netty's epoll transport").isTrue();
        assumeThat(LoopHandOff.AsleepDriver.X86_64).as("x86-64, whose epoll_event layout the measurement uses").isTrue();
        List<String> results;
        try (LoopHandOff.Echo echo = LoopHandOff.Echo.start()) {
            results = LoopHandOff.measureHere(echo.port(), 2_000, LoopHandOff.MODES);
        }

        assertThat(results).hasSize(LoopHandOff.MODES.size());
        for (int i = 0; i < results.size(); i++) {
            String[] words = results.get(i).split(" ");
            assertThat(words[0]).isEqualTo(LoopHandOff.MODES.get(i));
            assertThat(Long.parseLong(words[1])).as(results.get(i)).isPositive();
        }
        // the drivers that sleep without the loop say how often they woke for nothing
        assertThat(results).filteredOn(r -> r.startsWith("asleep")).allMatch(r -> r.contains("woken for nothing"));
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("loop-driver") && t.isAlive());
    }

    @Test
    void aServerWhoseCallThreadAnswersServesBothOfItsWays() throws Exception {
        assumeThat(Epoll.isAvailable()).as("Netty's epoll transport").isTrue();
        assumeThat(LoopHandOff.AsleepDriver.X86_64).as("x86-64, whose epoll_event layout the measurement uses").isTrue();
        for (String server : List.of("handoff", "asleep-poll")) {
            List<String> results;
            LoopHandOff.CallThreadEcho echo = LoopHandOff.CallThreadEcho.start(server);
            try (echo) {
                results = LoopHandOff.measureHere(echo.port(), 1_000, List.of("handoff", "asleep-poll"));
            }
            assertThat(results).as(server).hasSize(2);
            assertThat(results).as(server).allMatch(r -> Long.parseLong(r.split(" ")[1]) > 0);
            assertThat(echo.callThreadAlive()).as(server + ": its call thread after close").isFalse();
        }
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("loop-driver") && t.isAlive());
    }
}
