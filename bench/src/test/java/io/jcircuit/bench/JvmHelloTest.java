package io.jcircuit.bench;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.reflect.AccessFlag;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class JvmHelloTest {

    @Test
    void shouldWriteOnePublicClassWithAStaticMain() {
        ClassModel hello = ClassFile.of().parse(JvmHello.classBytes());

        assertThat(hello.thisClass().asInternalName()).isEqualTo("Hello");
        assertThat(hello.methods()).singleElement().satisfies(m -> {
            assertThat(m.methodName().stringValue()).isEqualTo("main");
            assertThat(m.methodType().stringValue()).isEqualTo("([Ljava/lang/String;)V");
            assertThat(m.flags().flags()).contains(AccessFlag.PUBLIC, AccessFlag.STATIC);
        });
    }

    @Tag("slow")
    @Test
    void shouldTimeAHelloWorldJvmThatGreetsAndExits(@TempDir Path dir) throws Exception {
        JvmHello hello = JvmHello.writeTo(dir);

        assertThat(hello.command()).endsWith("-cp", dir.toString(), "Hello");
        assertThat(hello.timeOnce()).isPositive();
    }

    /** The JVM's own notice on stderr (JAVA_TOOL_OPTIONS is common in containers) is not a failed greeting. */
    @Tag("slow")
    @Test
    void shouldAcceptTheJvmsNoticesOnStandardError(@TempDir Path dir) throws Exception {
        JvmHello hello = JvmHello.writeTo(dir);

        assertThat(hello.timeOnce(java.util.Map.of("JAVA_TOOL_OPTIONS", "-Dbench.test=1"))).isPositive();
    }
}
