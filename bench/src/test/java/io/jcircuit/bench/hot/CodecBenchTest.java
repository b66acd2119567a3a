package io.jcircuit.bench.hot;

import io.jcircuit.codec.Message;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark's operations do what they claim: the messages come back whole. */
class CodecBenchTest {

    @Test
    void callAndReplyRoundTrip() throws Exception {
        CodecBench b = new CodecBench();
        b.setUp();
        try {
            assertThat(b.encodeCall()).isGreaterThan(io.jcircuit.link.FrameCodec.HEADER_LENGTH);
            assertThat(b.encodeReply()).isGreaterThan(io.jcircuit.link.FrameCodec.HEADER_LENGTH);
            Message.Call call = (Message.Call) b.decodeCall();
            assertThat(call.callId()).isEqualTo(42);
            assertThat(call.method()).isEqualTo("echo(java.lang.String)");
            assertThat(call.args()).containsExactly("hello");
            assertThat(b.decodeReply()).isEqualTo(new Message.Reply(42, "hello"));
            assertThat(b.decodeCall()).as("a frame decodes again: decoding does not consume it").isInstanceOf(Message.Call.class);
            assertThat(b.encodeGo()).isGreaterThan(io.jcircuit.link.FrameCodec.HEADER_LENGTH);
            Message.Go go = (Message.Go) b.decodeGo();
            assertThat(go.callId()).isEqualTo(43);
            assertThat(go.fn().call()).as("the lambda came back with its captured string").isEqualTo(5);
        } finally {
            b.tearDown();
        }
    }
}
