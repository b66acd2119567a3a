package io.jcircuit.host;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The copier of a worker's stdout, on byte streams. */
class WorkerStdoutTest {

    private final ByteArrayOutputStream file = new ByteArrayOutputStream();
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    private final CompletableFuture<String> announced = new CompletableFuture<>();
    private final WorkerStdout copier = new WorkerStdout(file, ready, announced);

    private void feed(String s) throws IOException {
        feed(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private void feed(byte[] b) throws IOException {
        copier.accept(b, 0, b.length);
    }

    private String written() {
        return file.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void controlLinesSplitAcrossReadsArePickedOutAndTheRestGoesThrough() throws IOException {
        feed("early\nREA");
        feed("DY R0000000000000001 127.0.0.1:4");
        feed("000\nWOR");
        assertThat(ready).isCompletedWithValue("READY R0000000000000001 127.0.0.1:4000");
        feed("KER R0000000000000001 127.0.0.1:4000\r\nWORKER again\n");
        assertThat(announced).isCompletedWithValue("WORKER R0000000000000001 127.0.0.1:4000");
        assertThat(written()).as("a WORKER line after the announcement is the worker's own").isEqualTo("early\nWORKER again\n");
    }

    @Test
    void aControlWordInsideALineIsOutput() throws IOException {
        feed("say WORKER R1 a:1\nREADY?");
        feed("\n");
        assertThat(ready).isNotDone();
        assertThat(announced).isNotDone();
        assertThat(written()).isEqualTo("say WORKER R1 a:1\nREADY?\n");
    }

    @Test
    void aLineThatCannotBeAControlLineIsWrittenAsSoonAsThatIsClear() throws IOException {
        feed("WOR");
        assertThat(written()).as("the start of what may be a WORKER line is held").isEmpty();
        feed("x");
        assertThat(written()).isEqualTo("WORx");
        feed("y".repeat(10));
        assertThat(written()).as("the rest of the line, without a line break yet").isEqualTo("WORx" + "y".repeat(10));
    }

    @Test
    void aLongLineIsNeverHeldWhole() throws IOException {
        feed("WORKER ");
        byte[] run = "x".repeat(WorkerStdout.MAX_CONTROL_LINE).getBytes(StandardCharsets.US_ASCII);
        feed(run);
        assertThat(file.size()).as("bytes written of a line longer than a control line").isGreaterThanOrEqualTo(run.length);
        feed("\nWORKER R1 a:1\n");
        assertThat(announced).isCompletedWithValue("WORKER R1 a:1");
        assertThat(written()).isEqualTo("WORKER " + "x".repeat(run.length) + "\n");
    }

    @Test
    void bytesThatAreNotUtf8AndCrLfGoThroughAsTheyAre() throws IOException {
        byte[] printed = {'c', 'a', 'f', (byte) 0xE9, '\r', '\n', (byte) 0xFF, 'W', '\n', '\r', '\n'};
        feed(printed);
        assertThat(file.toByteArray()).isEqualTo(printed);
    }

    @Test
    void anUnfinishedLineIsWrittenAtTheEnd() throws IOException {
        InputStream in = new ByteArrayInputStream("out\nREADY R1".getBytes(StandardCharsets.US_ASCII));
        copier.copy(in);
        assertThat(written()).isEqualTo("out\nREADY R1");
        assertThat(ready).isNotDone();
    }

    @Test
    void afterTheAnnouncementEverythingGoesThroughAtOnce() throws IOException {
        feed("WORKER R1 a:1\nREA");
        assertThat(written()).isEqualTo("REA");
        feed("DY R2 a:2\n");
        assertThat(ready).isNotDone();
        assertThat(written()).isEqualTo("READY R2 a:2\n");
    }
}
