package io.jcircuit.anchor;

import io.jcircuit.Address;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EntryCodecTest {

    private static Entry entry(Map<String, String> meta) {
        WorkerId id = WorkerId.random();
        return new Entry("/worker/" + id, id, Address.parse("127.0.0.1:4242"), "h 1", 4711,
            Instant.ofEpochMilli(1_764_633_600_123L), meta);
    }

    @Test
    void metadataThatPropertiesTextGivesMeaningToComesBackAsItWas() {
        Map<String, String> meta = new TreeMap<>();
        meta.put("plain", "value");
        meta.put(" key with spaces ", " value with spaces ");
        meta.put("k=e:y#!", "v=a:l#!ue");
        meta.put("back\\slash", "C:\\dir\\");
        meta.put("lines", "one\ntwo\r\nthree\tfour\ffive");
        meta.put("control", "a\u0001b\u007fc\u0000");
        meta.put("#comment", "!also");
        meta.put("unicode ключ", "значение ✓ \uD83D\uDE00");
        meta.put("empty", "");
        meta.put("trailing backslash", "\\");
        meta.put("continued", "a\\\nb");
        Entry e = entry(meta);

        Entry back = EntryCodec.decode(e.path(), EntryCodec.encode(e));

        assertThat(back).isEqualTo(e);
        assertThat(back.metadata()).isEqualTo(meta);
    }

    @Test
    void theBytesAreJavaPropertiesTextWithoutAComment() throws Exception {
        Entry e = entry(Map.of("code", "app:2"));
        byte[] bytes = EntryCodec.encode(e);
        String text = new String(bytes, StandardCharsets.UTF_8);

        assertThat(text).doesNotContain("#").endsWith("\n");
        Properties p = new Properties();
        p.load(new StringReader(text));
        assertThat(p).containsEntry("id", e.worker().toString()).containsEntry("address", "127.0.0.1:4242")
            .containsEntry("host", "h 1").containsEntry("pid", "4711").containsEntry("started", "1764633600123")
            .containsEntry("meta.code", "app:2").hasSize(6);
        assertThat(EntryCodec.encode(entry(Map.of("code", "app:2"))).length).as("equal entries, equal sizes").isEqualTo(bytes.length);
        assertThat(EntryCodec.encode(e)).as("equal entries have equal bytes").isEqualTo(bytes);
    }

    @Test
    void dataThatIsNotAnEntryIsRefusedNamingThePath() {
        assertThatThrownBy(() -> EntryCodec.decode("/worker/x", "address=127.0.0.1:1\n".getBytes(StandardCharsets.UTF_8)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/worker/x").hasMessageContaining("'id'");
    }
}
