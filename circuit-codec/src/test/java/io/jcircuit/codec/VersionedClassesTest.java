package io.jcircuit.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two versions of the same classes, compiled here from two versions of their source and loaded side by
 * side, talk through two codecs: a record and a class that gained one field and lost another since the
 * other version. What both know arrives; what one does not know is dropped; what it lacks is its default.
 */
class VersionedClassesTest {

    private static final String V1 = """
        package shop;
        public record Order(long id, String item, int quantity) implements java.io.Serializable {}
        """;
    private static final String V1_CLASS = """
        package shop;
        public class Customer implements java.io.Serializable {
            public String name; public String phone;
            public Customer() {}
            public Customer(String name, String phone) { this.name = name; this.phone = phone; }
        }
        """;
    // version 2: Order lost 'quantity' and gained 'note'; Customer lost 'phone' and gained 'email'
    private static final String V2 = """
        package shop;
        public record Order(long id, String item, String note) implements java.io.Serializable {}
        """;
    private static final String V2_CLASS = """
        package shop;
        public class Customer implements java.io.Serializable {
            public String name; public String email;
            public Customer() {}
            public Customer(String name, String email) { this.name = name; this.email = email; }
        }
        """;

    @Test
    void shouldCarryTheFieldsBothVersionsKnowAndDefaultTheRest(@TempDir Path dir) throws Exception {
        ClassLoader v1 = compile(dir.resolve("v1"), V1, V1_CLASS);
        ClassLoader v2 = compile(dir.resolve("v2"), V2, V2_CLASS);
        MessageCodec old = new MessageCodec(v1, FuzzCorpus.REFS);
        MessageCodec next = new MessageCodec(v2, FuzzCorpus.REFS);

        Object order1 = v1.loadClass("shop.Order").getConstructors()[0].newInstance(7L, "tea", 3);
        Object customer1 = v1.loadClass("shop.Customer").getConstructor(String.class, String.class).newInstance("ada", "555");
        Object[] read = (Object[]) send(old, next, new Object[] {order1, customer1});
        assertThat(read[0].getClass().getClassLoader()).isSameAs(v2);
        assertThat(read[0].toString()).isEqualTo("Order[id=7, item=tea, note=null]");
        assertThat(field(read[1], "name")).isEqualTo("ada");
        assertThat(field(read[1], "email")).isNull();

        Object order2 = v2.loadClass("shop.Order").getConstructors()[0].newInstance(8L, "cake", "gift");
        Object customer2 = v2.loadClass("shop.Customer").getConstructor(String.class, String.class).newInstance("bob", "b@x");
        Object[] back = (Object[]) send(next, old, new Object[] {order2, customer2});
        assertThat(back[0].getClass().getClassLoader()).isSameAs(v1);
        assertThat(back[0].toString()).isEqualTo("Order[id=8, item=cake, quantity=0]");
        assertThat(field(back[1], "name")).isEqualTo("bob");
        assertThat(field(back[1], "phone")).isNull();
    }

    private static Object send(MessageCodec from, MessageCodec to, Object value) {
        ByteBuf buf = Unpooled.buffer();
        try {
            from.encode(new Message.Reply(1, value), buf);
            return ((Message.Reply) to.decode(buf)).value();
        } finally {
            buf.release();
        }
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        return o.getClass().getField(name).get(o);
    }

    private static ClassLoader compile(Path dir, String... sources) throws Exception {
        Path src = dir.resolve("src/shop");
        Files.createDirectories(src);
        Path out = Files.createDirectories(dir.resolve("classes"));
        List<String> args = new java.util.ArrayList<>(List.of("-d", out.toString()));
        for (String s : sources) {
            String name = s.contains("record Order") ? "Order.java" : "Customer.java";
            Path f = src.resolve(name);
            Files.writeString(f, s);
            args.add(f.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac.run(null, null, null, args.toArray(String[]::new))).isZero();
        return new URLClassLoader(new URL[] {out.toUri().toURL()}, VersionedClassesTest.class.getClassLoader());
    }
}
