package io.jcircuit.runtime;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ExportTest {

    interface Shapes {
        int add(int a, int b);

        String join(String sep, String... parts);

        void touch(StringBuilder into);

        long fail(String why) throws java.io.IOException;
    }

    static final class ShapesImpl implements Shapes {
        @Override
        public int add(int a, int b) {
            return a + b;
        }

        @Override
        public String join(String sep, String... parts) {
            return String.join(sep, parts);
        }

        @Override
        public void touch(StringBuilder into) {
            into.append("touched");
        }

        @Override
        public long fail(String why) throws java.io.IOException {
            throw new java.io.IOException(why);
        }
    }

    private static String sig(String name) {
        Method m = Arrays.stream(Shapes.class.getMethods()).filter(x -> x.getName().equals(name)).findFirst().orElseThrow();
        return Export.signature(m);
    }

    @Test
    void aMethodRunsWithItsArgumentsSpreadFromAnArray() throws Throwable {
        Export e = Export.of(7, Shapes.class, new ShapesImpl());
        assertThat(e.methods()).hasSize(4);

        assertThat(e.methods().get(sig("add")).handle().invokeExact((Object) e.impl(), new Object[] {2, 40})).isEqualTo(42);
        assertThat(e.methods().get(sig("join")).handle().invokeExact((Object) e.impl(), new Object[] {"-", new String[] {"a", "b"}}))
            .as("a varargs array arrives as the array it was").isEqualTo("a-b");
        StringBuilder into = new StringBuilder();
        assertThat(e.methods().get(sig("touch")).handle().invokeExact((Object) e.impl(), new Object[] {into})).isNull();
        assertThat(into).hasToString("touched");
        assertThat(e.methods().get(sig("add")).display()).isEqualTo("Shapes.add(int,int)");
        assertThat(e.methods().get(sig("add")).async()).isFalse();
    }

    @Test
    void aMethodThrowsWhatItThrows() {
        Export e = Export.of(7, Shapes.class, new ShapesImpl());
        assertThatThrownBy(() -> {
            Object ignored = e.methods().get(sig("fail")).handle().invokeExact((Object) e.impl(), new Object[] {"no"});
        }).isInstanceOf(java.io.IOException.class).hasMessage("no");
    }

    @Test
    void theHandleIsMadeOnceAndThenKept() throws Throwable {
        Export e = Export.of(7, Shapes.class, new ShapesImpl());
        Export.Target add = e.methods().get(sig("add"));
        java.lang.invoke.MethodHandle first = add.handle();
        assertThat(add.handle()).isSameAs(first);
        assertThat(first.type()).isEqualTo(java.lang.invoke.MethodType.methodType(Object.class, Object.class, Object[].class));
    }
}
